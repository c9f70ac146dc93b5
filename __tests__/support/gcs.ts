import { Storage, type Bucket } from '@google-cloud/storage';
import { randomUUID } from 'node:crypto';

export function emulatorEndpoint(): string {
  const endpoint = process.env.GCS_EMULATOR_ENDPOINT;
  if (endpoint === undefined) {
    throw new Error('GCS_EMULATOR_ENDPOINT is not set: run the tests through `npm test`.');
  }
  return endpoint;
}

/** The official client, pointed at the emulator through apiEndpoint (no credentials needed). */
export function emulatorClient(endpoint = emulatorEndpoint()): Storage {
  return new Storage({ apiEndpoint: endpoint, projectId: 'test-project' });
}

/** A fresh, empty bucket per test file, so tests can assert the exact bucket contents. */
export async function createTestBucket(endpoint = emulatorEndpoint()): Promise<Bucket> {
  const [bucket] = await emulatorClient(endpoint).createBucket(`test-${randomUUID()}`);
  return bucket;
}

/** The environment of a service on `bucket` in the emulator. */
export function emulatorEnv(bucket: Bucket): Record<string, string> {
  return {
    STORAGE_DRIVER: 'gcs',
    GCS_BUCKET: bucket.name,
    GCS_PROJECT_ID: 'test-project',
    GCS_API_ENDPOINT: emulatorEndpoint(),
    // Rendition URLs otherwise take the request's origin, and supertest listens on a new
    // port for every request: answers that must match would not.
    RENDER_BASE_URL: 'http://image-ingest.test',
  };
}

export async function listObjectNames(bucket: Bucket): Promise<string[]> {
  const [files] = await bucket.getFiles();
  return files.map((file) => file.name).sort();
}
