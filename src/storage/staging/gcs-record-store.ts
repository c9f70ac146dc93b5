import type { Bucket, File } from '@google-cloud/storage';
import { statusOf } from '../gcs-errors.js';
import { defaultRetryPolicy, type RetryPolicy } from '../retry.js';
import { retryingStaged } from './gcs-retrying.js';
import type { RecordStore, VersionedRecord } from './record-store.js';
import { StagingError, assertStagedNames, uploadIdPattern } from './staging-error.js';

/** The record's name in its upload's folder; its bytes (GcsByteArea) lie beside it. */
const recordName = 'upload.json';

/**
 * Records as objects under a private prefix, `<prefix><id>/upload.json`. The record's
 * generation is its version: create writes with ifGenerationMatch: 0, replace with
 * ifGenerationMatch: <version>, so of two instances that read one version only one can write
 * the next.
 */
export class GcsRecordStore implements RecordStore {
  private readonly policy: RetryPolicy;

  constructor(
    private readonly bucket: Bucket,
    private readonly prefix: string,
    policy: Partial<RetryPolicy> = {},
  ) {
    this.policy = { ...defaultRetryPolicy, ...policy };
  }

  async create(id: string, record: unknown): Promise<void> {
    assertStagedNames(id);
    const text = JSON.stringify(record);
    const file = this.recordFile(id);
    await this.retrying(`create ${id}`, async (_signal, attempt) => {
      try {
        await saveOnce(file, text, 0);
      } catch (error) {
        if (statusOf(error) !== 412) throw error;
        // 412 on a retry may be our own first attempt, which reached the bucket.
        if (attempt > 0 && (await this.holdsText(file, text))) return;
        throw new StagingError('exists', `staged upload ${id} exists`, { cause: error });
      }
    });
  }

  async read(id: string): Promise<VersionedRecord | undefined> {
    assertStagedNames(id);
    const file = this.recordFile(id);
    return this.retrying(`read ${id}`, async () => {
      // The generation first, then the bytes: bytes newer than the version only make the next
      // replace fail (a safe conflict), whereas the other order could pass stale bytes off as
      // current.
      let generation: string;
      try {
        const [metadata] = await file.getMetadata();
        generation = String(metadata.generation);
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
      try {
        const [bytes] = await file.download();
        return { record: JSON.parse(bytes.toString('utf8')) as unknown, version: generation };
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
    });
  }

  async replace(id: string, record: unknown, version: string): Promise<void> {
    assertStagedNames(id);
    const text = JSON.stringify(record);
    const file = this.recordFile(id);
    await this.retrying(`replace ${id}`, async (_signal, attempt) => {
      try {
        await saveOnce(file, text, Number(version));
      } catch (error) {
        const status = statusOf(error);
        if (status !== 412 && status !== 404) throw error;
        if (attempt > 0 && (await this.holdsText(file, text))) return;
        throw new StagingError('conflict', `staged upload ${id} changed`, { cause: error });
      }
    });
  }

  async remove(id: string): Promise<void> {
    assertStagedNames(id);
    const file = this.recordFile(id);
    await this.retrying(`delete ${file.name}`, () => file.delete({ ignoreNotFound: true }));
  }

  async *listIds(): AsyncIterable<string> {
    const stream = this.bucket.getFilesStream({ prefix: this.prefix });
    for await (const entry of stream) {
      const name = (entry as File).name.slice(this.prefix.length);
      const slash = name.indexOf('/');
      const id = name.slice(0, slash);
      if (name.slice(slash + 1) === recordName && uploadIdPattern.test(id)) yield id;
    }
  }

  private async holdsText(file: File, text: string): Promise<boolean> {
    try {
      const [bytes] = await file.download();
      return bytes.toString('utf8') === text;
    } catch {
      return false;
    }
  }

  private retrying<T>(
    what: string,
    attempt: (signal: AbortSignal, attemptNumber: number) => Promise<T>,
  ): Promise<T> {
    return retryingStaged(this.policy, what, attempt);
  }

  private recordFile(id: string): File {
    return this.bucket.file(`${this.prefix}${id}/${recordName}`);
  }
}

async function saveOnce(file: File, text: string, ifGenerationMatch: number): Promise<void> {
  await file.save(text, {
    resumable: false,
    contentType: 'application/json',
    metadata: { cacheControl: 'no-store' },
    preconditionOpts: { ifGenerationMatch },
  });
}
