import type { Bucket, File, GetFilesOptions } from '@google-cloud/storage';
import { config as loadDotenv } from 'dotenv';
import { ConfigError, loadConfig } from './config.js';
import { uploaderKeysFor, type UploaderKeys } from './ingest/uploader-keys.js';
import { storageClient } from './storage/create-store.js';

/**
 * `node dist/forget-uploaders.js`, once, with the service's environment (UPLOADER_SECRET
 * included): rewrites the images an earlier version stored with their uploader in clear
 * (`owner`, which GCS serves as `X-Goog-Meta-Owner` with the public image) to keep
 * `uploader`, the HMAC the service now checks, instead. The owner deletes as before. The
 * local driver needs none of this: its sidecars are never served.
 */

export interface ForgetResult {
  readonly rewritten: number;
  /** Changed by someone else between the read and the write; run again to take them. */
  readonly skipped: number;
}

/** The image names this service gives: `<uuid>.<extension>` (variants carry no owner). */
const imageName = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.[a-z0-9]+$/;

export async function forgetUploaders(bucket: Bucket, keys: UploaderKeys): Promise<ForgetResult> {
  let rewritten = 0;
  let skipped = 0;
  // A page at a time: a bucket of millions of images is never listed into memory at once.
  let query: GetFilesOptions | undefined = { autoPaginate: false, maxResults: 1000 };
  while (query !== undefined) {
    const [files, next]: [File[], GetFilesOptions | null | undefined, unknown] =
      await bucket.getFiles(query);
    for (const file of files) {
      const id = imageName.exec(file.name)?.[1];
      const owner = file.metadata.metadata?.owner;
      if (id === undefined || typeof owner !== 'string' || owner === '') continue;
      try {
        await file.setMetadata(
          // null removes a key; `uploader` is what UploaderKeys.mayDelete compares.
          { metadata: { owner: null, uploader: await keys.uploaderOf(id, owner) } },
          { ifMetagenerationMatch: file.metadata.metageneration },
        );
        rewritten += 1;
      } catch (error) {
        if ((error as { code?: unknown }).code !== 412) throw error;
        skipped += 1;
      }
    }
    query = next ?? undefined;
  }
  return { rewritten, skipped };
}

async function main(): Promise<void> {
  loadDotenv({ quiet: true });
  const config = loadConfig(process.env);
  if (config.storage.driver !== 'gcs') {
    console.log('STORAGE_DRIVER=local: sidecars are never served; nothing to rewrite.');
    return;
  }
  if (config.uploaderSecret === undefined) {
    // A key of this process alone would make `uploader` values no instance can check.
    throw new ConfigError('UPLOADER_SECRET', 'is required to rewrite owners');
  }
  const client = await storageClient(config.storage);
  const result = await forgetUploaders(
    client.bucket(config.storage.bucket),
    uploaderKeysFor(config),
  );
  console.log(JSON.stringify(result));
}

if (import.meta.main) {
  // The message only (a ConfigError names its variable): no stack for an operator to read.
  await main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
}
