import { afterAll, describe, expect, it } from '@jest/globals';
import { readFile, rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAppError } from '../../src/errors.js';
import { HeldImageBuffers } from '../../src/ingest/held-image-buffers.js';
import {
  ingestImage,
  type IngestContext,
  type IngestedImage,
} from '../../src/ingest/ingest-image.js';
import { jsonDataUriSource } from '../../src/ingest/sources/json-data-uri.js';
import { pipelineContext, useLocalStores } from '../support/local-ingest.js';
import { localObjectNames } from '../support/local-upload-dir.js';
import { splitAt } from './helpers.js';

/**
 * Every way an upload can end gives its held slab back to the pool: a slab kept by a failed
 * upload would shrink the pool for good, and one given back too early could be written by the
 * next upload while something still reads it (that is what the quarantine after a failed
 * store write is for).
 */

const photo = await readFile(new URL('../fixtures/photo.jpg', import.meta.url));
const large = await readFile(new URL('../fixtures/large.jpg', import.meta.url));
const polyglot = await readFile(new URL('../fixtures/polyglot.png', import.meta.url));

const buffers = new HeldImageBuffers(32 * 1024 * 1024);
afterAll(() => buffers.close());

const localStore = useLocalStores('ingest-held-');

function context(overrides: Partial<IngestContext> = {}): IngestContext {
  return { ...pipelineContext(localStore().store, buffers), ...overrides };
}

const maxJsonOverheadBytes = 64 * 1024;

/** The JSON door's upload of `body`, declaring its length or not. */
function ingestJson(
  body: AsyncIterable<Buffer>,
  declaredBodyBytes: number | undefined,
  using: IngestContext,
): Promise<IngestedImage> {
  return ingestImage(jsonDataUriSource(body, { declaredBodyBytes, maxJsonOverheadBytes }), using);
}

function bodyOf(image: Buffer, type = 'image/jpeg'): Buffer {
  return Buffer.from(JSON.stringify({ data: `data:${type};base64,${image.toString('base64')}` }));
}

/** The body in 64 KiB pieces, as a socket gives it; optionally failing after `failAfter` pieces. */
async function* piecesOf(body: Buffer, failAfter?: number): AsyncGenerator<Buffer> {
  const offsets = Array.from({ length: Math.ceil(body.length / 65536) }, (_, i) => i * 65536);
  let index = 0;
  for (const piece of splitAt(body, offsets)) {
    if (failAfter !== undefined && index === failAfter) throw new Error('client went away');
    index += 1;
    await Promise.resolve();
    yield piece;
  }
}

async function outcome(run: Promise<unknown>): Promise<string> {
  try {
    await run;
    return 'stored';
  } catch (error) {
    return isAppError(error) ? error.code : String(error);
  }
}

const storedFiles = (): Promise<string[]> => localObjectNames(localStore().directory);

describe('held slabs come back however an upload ends', () => {
  it.each([
    ['a stored image, length declared', bodyOf(large), true, 'stored'],
    ['a stored image, no length', bodyOf(large), false, 'stored'],
    ['an image refused by validation', bodyOf(polyglot, 'image/png'), true, 'undecodable_image'],
    [
      'bad base64 at the end',
      Buffer.from(bodyOf(large).toString().replace(/"}$/, '!"}')),
      true,
      'invalid_base64',
    ],
    [
      'an unsupported type',
      bodyOf(Buffer.from('GIF89a-not-really')),
      true,
      'unsupported_image_type',
    ],
  ])('%s', async (_, body, declared, expected) => {
    const before = buffers.slabsInUse;
    const result = await outcome(
      ingestJson(piecesOf(body), declared ? body.length : undefined, context()),
    );
    expect(result).toBe(expected);
    expect(buffers.slabsInUse).toBe(before);
    expect((await storedFiles()).length).toBe(expected === 'stored' ? 1 : 0);
  });

  it('a client that goes away mid-body', async () => {
    const body = bodyOf(large);
    const result = await outcome(ingestJson(piecesOf(body, 5), body.length, context()));
    expect(result).toMatch(/client went away/);
    expect(buffers.slabsInUse).toBe(0);
  });

  it('a failed store write: quarantined for a moment, then back', async () => {
    // A real failure: the folder the store writes into is gone.
    await rm(localStore().directory, { recursive: true, force: true });
    const body = bodyOf(photo);
    const result = await outcome(ingestJson(piecesOf(body), body.length, context()));
    expect(result).not.toBe('stored');
    expect(buffers.slabsInUse).toBe(1);
    await sleep(1200);
    expect(buffers.slabsInUse).toBe(0);
  });

  it('a streamed image, stored or cut off', async () => {
    const streamed = context({
      limits: { ...context().limits, streamingThresholdBytes: 64 * 1024 },
    });
    const body = bodyOf(large);
    expect(await outcome(ingestJson(piecesOf(body), undefined, streamed))).toBe('stored');
    expect(buffers.slabsInUse).toBe(0);
    expect(await outcome(ingestJson(piecesOf(body, 8), undefined, streamed))).toMatch(/went away/);
    // The store's write failed with the body: its first chunk, a slab, waits out the quarantine.
    await sleep(1200);
    expect(buffers.slabsInUse).toBe(0);
  });

  it('an idempotent repeat, answered from the earlier object', async () => {
    const body = bodyOf(photo);
    const again = context({ idempotencyKey: 'key-1' });
    const first = await ingestJson(piecesOf(body), body.length, again);
    const second = await ingestJson(piecesOf(body), body.length, again);
    expect(second).toEqual(first);
    expect(buffers.slabsInUse).toBe(0);
  });
});
