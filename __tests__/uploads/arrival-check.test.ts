import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { isAppError } from '../../src/errors.js';
import { createImageWalk } from '../../src/images/formats/index.js';
import { knownImageTypes, type ImageMimeType } from '../../src/images/image-types.js';
import {
  ArrivalCheck,
  ArrivalChecks,
  type ArrivalOptions,
} from '../../src/uploads/arrival-check.js';
import { idempotencyKeyOf } from '../../src/uploads/tus-uploads.js';
import type { UploadRecord } from '../../src/uploads/upload-record.js';

/**
 * The arrival check of a tus upload against the single-pass walk the pipeline makes: every
 * format fixture, cut at many offsets (densely where the walk holds bytes back: a header being
 * read, a metadata segment being dropped), the first part checked by one instance and the rest
 * by a fresh check that caught up from the staged bytes and the record's tail, as another
 * instance does after a SIGKILL. The staged bytes, their sha256 and the facts must be the
 * single pass's, byte for byte.
 */

const allowedTypes = Object.keys(knownImageTypes) as ImageMimeType[];
const options: ArrivalOptions = { allowedTypes, maxPixels: 300_000_000, strip: true };

const fixtures: [string, ImageMimeType][] = [
  ['phone-o1.jpg', 'image/jpeg'],
  ['phone-o6.jpg', 'image/jpeg'],
  ['photo.jpg', 'image/jpeg'],
  ['large.jpg', 'image/jpeg'],
  ['phone.png', 'image/png'],
  ['photo.png', 'image/png'],
  ['phone.gif', 'image/gif'],
  ['anim.gif', 'image/gif'],
  ['phone.webp', 'image/webp'],
  ['photo.webp', 'image/webp'],
  ['phone.avif', 'image/avif'],
  ['photo.avif', 'image/avif'],
  ['heic/iphone13pro-gps.heic', 'image/heic'],
  ['heic/iphone8plus-rotated.heic', 'image/heic'],
  ['heic/xiaomi-gps.heic', 'image/heic'],
  ['heic/made-grid-irot-thumbnail-gps.heic', 'image/heic'],
  ['heic/made-grid-mdat-first.heic', 'image/heic'],
  ['heic/made-irot-imir-clap-gps.heic', 'image/heic'],
  ['heic/made-heif-enc-alpha-thumbnail.heic', 'image/heic'],
];

const fixture = (name: string): Buffer => readFileSync(`__tests__/fixtures/${name}`);
const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** The pipeline's one walk, whole. */
function singlePass(image: Buffer, type: ImageMimeType, strip: boolean) {
  const walker = createImageWalk(type, options.maxPixels, { strip })!;
  const output = Buffer.concat([...walker.write(image), ...walker.end()]);
  return { output, sha256: sha256(output), facts: walker.facts() };
}

/** Feeds `bytes` in pieces of `size`, as PATCH bodies arrive. */
async function feed(check: ArrivalCheck, bytes: Buffer, size = 64 * 1024): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) {
    out.push(...(await check.write(bytes.subarray(at, at + size))));
  }
  return out;
}

/** Staged bytes as a staging driver streams them back. */
function chunksOf(bytes: Buffer, size = 7919): AsyncIterable<Buffer> {
  return Readable.from(
    Array.from({ length: Math.ceil(bytes.length / size) }, (_, index) =>
      bytes.subarray(index * size, (index + 1) * size),
    ),
  );
}

/**
 * The upload cut at each of `cuts` (raw offsets): each part checked by a check that caught up
 * from the staged bytes so far and the record, as a new instance does.
 */
async function resumedAt(image: Buffer, cuts: readonly number[], strip = true) {
  const opts = { ...options, strip };
  let check = ArrivalCheck.start(opts);
  const staged: Buffer[] = [];
  let at = 0;
  for (const cut of cuts) {
    staged.push(...(await feed(check, image.subarray(at, cut))));
    at = cut;
    const record = JSON.parse(JSON.stringify(check.record())) as ReturnType<ArrivalCheck['record']>;
    const stagedSoFar = Buffer.concat(staged);
    expect(record.staged).toBe(stagedSoFar.length);
    const resumed = await ArrivalCheck.catchUp(
      opts,
      check.type?.contentType,
      cut,
      record,
      chunksOf(stagedSoFar),
    );
    if (resumed === undefined) throw new Error(`no catching up at ${cut}`);
    check = resumed.check;
    staged.push(...resumed.output);
  }
  staged.push(...(await feed(check, image.subarray(at))), ...(await check.end()));
  const output = Buffer.concat(staged);
  expect(check.staged).toBe(output.length);
  return { output, sha256: check.sha256(), facts: check.facts() };
}

/**
 * Offsets where the check holds raw bytes back (a tail) or is zeroing a dropped chunk, found on
 * a grid, then densely.
 */
async function cutsInsideHeldBytes(image: Buffer): Promise<number[]> {
  const check = ArrivalCheck.start(options);
  const grid = 257;
  const held: number[] = [];
  for (let at = 0; at < image.length; at += grid) {
    await check.write(image.subarray(at, at + grid));
    const { tail, zeroing = 0 } = check.record();
    const holding = (tail !== null && tail.length > 0) || zeroing > 0;
    if (holding && at + grid < image.length) held.push(at + grid);
  }
  const cuts = new Set<number>();
  for (const point of held.slice(0, 40)) {
    for (let cut = point - grid + 1; cut <= point; cut += 17) cuts.add(cut);
  }
  return [...cuts].filter((cut) => cut > 0 && cut < image.length).sort((a, b) => a - b);
}

describe.each(fixtures)('%s', (name, type) => {
  const image = fixture(name);
  const whole = singlePass(image, type, true);

  it('checked in one go, stages what the single pass publishes', async () => {
    const check = ArrivalCheck.start(options);
    const output = Buffer.concat([...(await feed(check, image)), ...(await check.end())]);
    expect(output.equals(whole.output)).toBe(true);
    expect(check.sha256()).toBe(whole.sha256);
    expect(check.facts()).toEqual(whole.facts);
    expect(check.type?.contentType).toBe(type);
  });

  it('resumed after a cut inside held bytes, stages the same bytes', async () => {
    const cuts = await cutsInsideHeldBytes(image);
    // Every cut point must be one a record can carry: none is lost to the fallback.
    for (const cut of cuts) {
      const resumed = await resumedAt(image, [cut]);
      expect(resumed.output.equals(whole.output)).toBe(true);
      expect(resumed.sha256).toBe(whole.sha256);
      expect(resumed.facts).toEqual(whole.facts);
    }
  }, 120_000);

  it('resumed after cuts anywhere, once or several times, stages the same bytes', async () => {
    const small = image.length <= 16 * 1024;
    const cutsOf = fc
      .uniqueArray(fc.integer({ min: 1, max: image.length - 1 }), { minLength: 1, maxLength: 4 })
      .map((cuts) => cuts.sort((a, b) => a - b));
    await fc.assert(
      fc.asyncProperty(cutsOf, async (cuts) => {
        const resumed = await resumedAt(image, cuts);
        expect(resumed.output.equals(whole.output)).toBe(true);
        expect(resumed.sha256).toBe(whole.sha256);
        expect(resumed.facts).toEqual(whole.facts);
      }),
      { numRuns: small ? 60 : 12 },
    );
    if (small) {
      // Every offset of a small file, and within its first 2 KiB every one of them.
      for (let cut = 1; cut < image.length; cut += cut < 2048 ? 1 : 13) {
        const resumed = await resumedAt(image, [cut]);
        expect(resumed.output.equals(whole.output)).toBe(true);
      }
    }
  }, 300_000);

  it('without stripping, stages the bytes as they came', async () => {
    const cut = Math.floor(image.length / 2);
    const resumed = await resumedAt(image, [cut], false);
    expect(resumed.output.equals(image)).toBe(true);
    expect(resumed.sha256).toBe(sha256(image));
  });
});

describe('refusals as the bytes arrive', () => {
  it('refuses an SVG once the first bytes are in', async () => {
    const check = ArrivalCheck.start(options);
    const svg = fixture('script.svg');
    const refused = await feed(check, Buffer.concat([svg, Buffer.alloc(8192, 0x20)])).catch(
      (error: unknown) => error,
    );
    expect(isAppError(refused) && refused.code).toBe('unsupported_image_type');
  });

  it('refuses a polyglot at the bytes after the end of the image', async () => {
    const check = ArrivalCheck.start(options);
    const refused = await feed(check, fixture('polyglot.png'))
      .then(() => check.end())
      .catch((error: unknown) => error);
    expect(isAppError(refused) && refused.code).toBe('undecodable_image');
  });

  it('cannot catch up from staged bytes that are not what the walk put out', async () => {
    const image = fixture('phone-o6.jpg');
    const check = ArrivalCheck.start(options);
    const staged = Buffer.concat(await feed(check, image.subarray(0, 6000)));
    const forged = Buffer.from(staged);
    forged[forged.length - 1] = forged.at(-1)! ^ 0xff;
    const record = check.record();
    const caught = await ArrivalCheck.catchUp(
      options,
      'image/jpeg',
      6000,
      record,
      chunksOf(forged),
    );
    // Either the walk refuses the forged bytes or it does not put them out unchanged.
    expect(caught).toBeUndefined();
  });
});

describe('generations of an upload (started again from its first byte)', () => {
  it('a kept check is not taken for the same offsets in another generation', async () => {
    const checks = new ArrivalChecks();
    const bytes = fixture('photo.jpg');
    const check = ArrivalCheck.start({ allowedTypes, maxPixels: 1e8, strip: true });
    await check.write(bytes.subarray(0, 4096));
    const expires = new Date(Date.now() + 60_000);
    checks.keep('u', check, expires);
    expect(checks.take('u', check.received, { staged: check.staged, tail: '', generation: 1 })).toBe(
      undefined,
    );
    checks.keep('u', check, expires);
    expect(checks.take('u', check.received, check.record())).toBe(check);
  });

  it('a finish in another generation has another idempotency key', () => {
    const record = { id: 'u', secret: 's', arrival: { staged: 0, tail: '' } } as unknown as UploadRecord;
    const restarted = { ...record, arrival: { staged: 0, tail: '', generation: 1 } };
    expect(idempotencyKeyOf(restarted)).not.toBe(idempotencyKeyOf(record));
  });
});
