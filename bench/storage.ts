import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Storage, type Bucket } from '@google-cloud/storage';
import sharp from 'sharp';

/**
 * Where one server writes during one run, and how the bench checks afterwards that every
 * object stored is exactly the image that was sent.
 */
export interface BenchStorage {
  readonly driver: 'local' | 'gcs';
  /** Environment that points both image-ingest and the baseline at this storage. */
  readonly env: Record<string, string>;
  listNames(): Promise<string[]>;
  /** Size and hash of a stored object; undefined when it is gone (removed since the listing). */
  sha256Of(name: string): Promise<{ bytes: number; sha256: string } | undefined>;
  /** A stored object's bytes (for the small ones: variants); undefined when it is gone. */
  read(name: string): Promise<Buffer | undefined>;
  /** Anything a failed or aborted write left behind (the local driver's temp files). */
  leftovers(): Promise<string[]>;
  /**
   * The bytes in the staging area of resumable and direct uploads (`<UPLOAD_DIR>/.staging/`,
   * objects under `staging/`): pieces of uploads not yet published, and what a half-made one
   * left in `.incoming`. The records stay (GET /v1/uploads/{id} answers from them until the
   * sweep); a published upload's pieces are removed. listNames leaves the staging area out.
   */
  stagedBytes(): Promise<string[]>;
  dispose(): Promise<void>;
}

export async function localStorage(root: string, label: string): Promise<BenchStorage> {
  const dir = await fs.mkdtemp(path.join(root, `${label}-`));
  const incoming = path.join(dir, '.incoming');
  return {
    driver: 'local',
    env: { STORAGE_DRIVER: 'local', UPLOAD_DIR: dir },
    // `.incoming` (temp files) and `.staging` are not objects.
    listNames: async () => (await fs.readdir(dir)).filter((name) => !name.startsWith('.')).sort(),
    sha256Of: async (name) => {
      const hash = createHash('sha256');
      let bytes = 0;
      await pipeline(createReadStream(path.join(dir, name)), async function* (chunks) {
        for await (const chunk of chunks as AsyncIterable<Buffer>) {
          bytes += chunk.length;
          hash.update(chunk);
        }
        yield* [];
      });
      return { bytes, sha256: hash.digest('hex') };
    },
    read: (name) => fs.readFile(path.join(dir, name)),
    leftovers: async () => await fs.readdir(incoming).catch(() => []),
    stagedBytes: async () => {
      const staging = path.join(dir, '.staging');
      const entries = await fs.readdir(staging, { recursive: true }).catch(() => []);
      // <area>/<id>/piece.<name>, and whatever is in <area>/.incoming/.
      return entries.filter((entry) => {
        const parts = entry.split(path.sep);
        return parts.length === 3 && (parts[1] === '.incoming' || parts[2]!.startsWith('piece.'));
      });
    },
    dispose: () => fs.rm(dir, { recursive: true, force: true }),
  };
}

/** STAGING_PREFIX as the service has it by default. */
const stagingPrefix = 'staging/';

export async function gcsStorage(endpoint: string, label: string): Promise<BenchStorage> {
  const client = new Storage({ apiEndpoint: endpoint, projectId: 'bench-project' });
  const [bucket]: [Bucket, ...unknown[]] = await client.createBucket(
    `bench-${label}-${Date.now().toString(36)}`,
  );
  return {
    driver: 'gcs',
    env: {
      STORAGE_DRIVER: 'gcs',
      GCS_BUCKET: bucket.name,
      GCS_API_ENDPOINT: endpoint,
      GCS_PROJECT_ID: 'bench-project',
    },
    listNames: async () => {
      const [files] = await bucket.getFiles();
      return files
        .map((file) => file.name)
        .filter((name) => !name.startsWith(stagingPrefix))
        .sort();
    },
    stagedBytes: async () => {
      const [files] = await bucket.getFiles({ prefix: stagingPrefix });
      return files
        .map((file) => file.name)
        .filter((name) => !name.endsWith('/upload.json'))
        .sort();
    },
    read: async (name) => {
      const response = await fetch(
        `${endpoint}/storage/v1/b/${bucket.name}/o/${encodeURIComponent(name)}?alt=media`,
      );
      if (response.status === 404) return undefined;
      if (!response.ok) throw new Error(`downloading ${name}: HTTP ${response.status}`);
      return Buffer.from(await response.arrayBuffer());
    },
    sha256Of: async (name) => {
      // Plain HTTP: the client's download() piles listeners on a shared stream when called
      // hundreds of times in a row, and the bytes are all that matters here.
      const response = await fetch(
        `${endpoint}/storage/v1/b/${bucket.name}/o/${encodeURIComponent(name)}?alt=media`,
      );
      // A write cut off when the load generator stopped is removed in the background (the
      // service answered no 201 for it): listed a moment ago, gone now.
      if (response.status === 404) return undefined;
      if (!response.ok) throw new Error(`downloading ${name}: HTTP ${response.status}`);
      const contents = Buffer.from(await response.arrayBuffer());
      return {
        bytes: contents.length,
        sha256: createHash('sha256').update(contents).digest('hex'),
      };
    },
    leftovers: () => Promise.resolve([]),
    dispose: async () => {
      // The emulator keeps objects in memory: free them before the next run.
      await bucket.deleteFiles({ force: true });
      await bucket.delete();
    },
  };
}

/** What image-ingest stores for a JPEG by default: the service's own stripper, from dist/. */
export async function storedByService(jpeg: Buffer): Promise<Buffer> {
  const { stripImage } = (await import(
    new URL('../dist/images/formats/index.js', import.meta.url).href
  )) as typeof import('../src/images/formats/index.ts');
  return stripImage(jpeg, 'image/jpeg', 100_000_000); // MAX_IMAGE_PIXELS' default
}

export interface Verification {
  /** Originals: objects named `<uuid>.<ext>` (every new object when no variants are expected). */
  readonly objects: number;
  /** Variants found beside the originals, `<uuid>.<variant>.<ext>`, each one decoded. */
  readonly variantObjects: number;
  /**
   * Originals whose bytes or sha256 differ from the image sent; variants that do not decode
   * or are not in the expected format; originals missing a variant; variants of no original.
   */
  readonly wrong: readonly string[];
  /** Temp files still there 5 s after the run. */
  readonly leftovers: readonly string[];
}

export interface ExpectedObjects {
  /** What every original must be. */
  readonly bytes: number;
  readonly sha256: string;
  /** The variants stored beside each original: their names and extension (`webp`). */
  readonly variants?: { readonly names: readonly string[]; readonly extension: string };
}

const uuid = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const originalName = new RegExp(`^(${uuid})\\.[a-z0-9]+$`);
const variantName = new RegExp(`^(${uuid})\\.([a-z][a-z0-9_-]{0,31})\\.([a-z0-9]+)$`);

/** sharp's name for the format of a variant extension. */
const sharpFormats: Record<string, string> = {
  webp: 'webp',
  avif: 'heif',
  jpg: 'jpeg',
};

/**
 * Checks every object stored during the run (those not there before): each original against
 * the image, and, when variants are expected, that each original has all of them, each
 * decoding as an image of the expected format.
 */
export async function verifyStored(
  storage: BenchStorage,
  before: ReadonlySet<string>,
  expected: ExpectedObjects,
): Promise<Verification> {
  // Requests cut off at the end of a run abort their writes, whose clean-up takes a moment;
  // a write that was past its last byte may still land, as a complete object.
  let leftovers = await storage.leftovers();
  for (let waited = 0; leftovers.length > 0 && waited < 5_000; waited += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    leftovers = await storage.leftovers();
  }
  const wrong: string[] = [];
  const names = (await storage.listNames()).filter((name) => !before.has(name));
  const originals = new Set<string>();
  const variantsOf = new Map<string, string[]>();
  let objects = 0;
  let variantObjects = 0;
  for (const name of names) {
    const variant = expected.variants === undefined ? null : variantName.exec(name);
    if (variant !== null) {
      const [, id, variantOf, extension] = variant as unknown as [string, string, string, string];
      const bytes = await storage.read(name);
      if (bytes === undefined) continue;
      variantObjects += 1;
      variantsOf.set(id, [...(variantsOf.get(id) ?? []), variantOf]);
      const problem = await variantProblem(bytes, extension, expected.variants!.extension);
      if (problem !== undefined) wrong.push(`${name}: ${problem}`);
      continue;
    }
    const original = expected.variants === undefined ? null : originalName.exec(name);
    if (expected.variants !== undefined && original === null) {
      wrong.push(`${name}: named neither <uuid>.<ext> nor <uuid>.<variant>.<ext>`);
      continue;
    }
    const actual = await storage.sha256Of(name);
    if (actual === undefined) continue;
    objects += 1;
    if (original !== null) originals.add(original[1]!);
    if (actual.bytes !== expected.bytes || actual.sha256 !== expected.sha256) {
      wrong.push(`${name}: ${actual.bytes} bytes, sha256 ${actual.sha256}`);
    }
  }
  if (expected.variants !== undefined) {
    const wantedNames = [...expected.variants.names].sort().join(',');
    for (const id of originals) {
      const found = (variantsOf.get(id) ?? []).sort().join(',');
      if (found !== wantedNames)
        wrong.push(`${id}: variants [${found}], expected [${wantedNames}]`);
    }
    for (const id of variantsOf.keys()) {
      if (!originals.has(id)) wrong.push(`${id}: variants stored without their original`);
    }
  }
  return {
    objects,
    variantObjects,
    wrong,
    leftovers: leftovers.map((leftover) => `temp file left: ${leftover}`),
  };
}

/** Why a stored variant is not a whole image of the expected format, or undefined. */
async function variantProblem(
  bytes: Buffer,
  extension: string,
  expectedExtension: string,
): Promise<string | undefined> {
  if (extension !== expectedExtension)
    return `extension ${extension}, expected ${expectedExtension}`;
  try {
    // Decoding every pixel: a truncated object fails here, not on its header.
    const { info } = await sharp(bytes, { failOn: 'error' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    const { format } = await sharp(bytes).metadata();
    const wanted = sharpFormats[expectedExtension];
    if (wanted !== undefined && format !== wanted)
      return `decodes as ${format}, expected ${wanted}`;
    if (info.width < 1 || info.height < 1) return 'decodes to no pixels';
  } catch (error) {
    return `does not decode: ${String(error)}`;
  }
  return undefined;
}
