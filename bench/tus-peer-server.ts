import { createServer } from 'node:http';
import { Storage, type Bucket, type File } from '@google-cloud/storage';
import { FileStore } from '@tus/file-store';
import { GCSStore } from '@tus/gcs-store';
import { Server } from '@tus/server';

/**
 * The peer of the tus scenario: stock @tus/server, written the way its README shows, on
 * node:http, with @tus/file-store in UPLOAD_DIR, or with @tus/gcs-store in GCS_BUCKET (on
 * GCS_API_ENDPOINT, the emulator) when that is set. It keeps the bytes it is sent as they are
 * (no type sniffing, no validation, no metadata stripping, no publishing under a new name).
 */
const port = Number(process.env.PORT ?? 3003);
const host = process.env.HOST ?? '127.0.0.1';
const directory = process.env.UPLOAD_DIR ?? './files';
const bucketName = process.env.GCS_BUCKET;

/** Custom metadata with every number written as a string; other values as they are. */
function stringNumbers(values: unknown): unknown {
  if (typeof values !== 'object' || values === null) return values;
  return Object.fromEntries(
    Object.entries(values).map(([key, value]) => [
      key,
      typeof value === 'number' ? String(value) : value,
    ]),
  );
}

/**
 * @tus/gcs-store writes the upload's offset into the object's custom metadata as a JSON
 * number. GCS takes it (as a string); fake-gcs-server refuses the request ("cannot unmarshal
 * number ... of type string"). So this bucket turns those numbers into strings on their way
 * to createWriteStream and setMetadata, the two calls that send them; nothing else differs.
 */
function emulatorBucket(bucket: Bucket): Bucket {
  const fileOf = bucket.file.bind(bucket);
  bucket.file = (name: string, options?: object): File => {
    const file = fileOf(name, options);
    const createWriteStream = file.createWriteStream.bind(file);
    file.createWriteStream = (writeOptions = {}) =>
      createWriteStream({
        ...writeOptions,
        metadata: {
          ...writeOptions.metadata,
          metadata: stringNumbers(writeOptions.metadata?.metadata) as Record<string, string>,
        },
      });
    const setMetadata = file.setMetadata.bind(file) as (...args: unknown[]) => unknown;
    file.setMetadata = ((metadata: { metadata?: unknown }, ...rest: unknown[]) =>
      setMetadata(
        { ...metadata, metadata: stringNumbers(metadata.metadata) },
        ...rest,
      )) as File['setMetadata'];
    return file;
  };
  return bucket;
}

const datastore =
  bucketName === undefined
    ? new FileStore({ directory })
    : new GCSStore({
        bucket: emulatorBucket(
          new Storage({
            apiEndpoint: process.env.GCS_API_ENDPOINT,
            projectId: process.env.GCS_PROJECT_ID,
          }).bucket(bucketName),
        ),
      });
const tusServer = new Server({ path: '/files', datastore });
const server = createServer((request, response) => void tusServer.handle(request, response));

server.listen(port, host);

process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});
