// `npm run test:unit`: the quick loop. No emulator, toxiproxy, Redis, Chromium, curl or exiftool
// (so no Go and no apt packages), hence no globalSetup; the suites that parametrise over the
// storage drivers run on the local one only. `npm test` stays the whole suite.
import base from './jest.config.js';

// Read by __tests__/support/requests.ts in the jest workers, which inherit this environment.
process.env.TEST_DRIVERS = 'local';

/** Suites that need one of those tools whatever the driver, and what they need. */
const needTools = {
  'http/client-disconnect': 'fake-gcs-server',
  'http/direct-uploads': 'curl',
  'http/stored-files-curl': 'curl',
  'http/direct-uploads-browser': 'Chromium',
  'http/direct-uploads-unsigned': 'fake-gcs-server',
  'http/early-answers': 'toxiproxy',
  'http/failures': 'fake-gcs-server, toxiproxy',
  'http/heic': 'exiftool, heif-convert',
  'http/idempotency': 'fake-gcs-server',
  'http/image-by-id': 'Chromium, toxiproxy',
  'http/log-levels': 'fake-gcs-server',
  'http/observability': 'fake-gcs-server',
  'http/openapi-browser': 'Chromium',
  'http/privacy': 'exiftool',
  'http/heic-structure': 'exiftool',
  'http/ready': 'fake-gcs-server',
  'http/real-clients': 'Chromium, curl, Python requests',
  'http/schemathesis': 'Python schemathesis (.tools/venv-schemathesis)',
  'images/codecs/heif': 'heif-convert',
  'images/formats/strip': 'exiftool',
  'images/formats/heic-libheif': 'heif-convert (libheif-examples), exiftool',
  'ingest/multipart-curl': 'curl',
  'security/cors-browser': 'Chromium',
  'security/rate-limit-redis': 'redis-server',
  'config-process': 'a build',
  'forget-uploaders': 'fake-gcs-server',
  'node-engine-process': 'a build and an older system Node (/usr/bin/node)',
  shutdown: 'fake-gcs-server and a build',
  'storage/gcs-faults': 'fake-gcs-server, toxiproxy',
  'storage/gcs-store': 'fake-gcs-server',
  'uploads/tus-browser': 'Chromium',
  'uploads/tus-faults': 'fake-gcs-server, toxiproxy',
  'uploads/tus-instances': 'fake-gcs-server, toxiproxy',
  'uploads/tus-processes': 'toxiproxy and a build',
};

/** @type {import('jest').Config} */
export default {
  ...base,
  globalSetup: undefined,
  globalTeardown: undefined,
  testPathIgnorePatterns: Object.keys(needTools).map((name) => `/__tests__/${name}\\.test\\.ts$`),
};
