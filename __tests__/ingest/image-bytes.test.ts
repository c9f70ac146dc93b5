import { afterAll, describe, expect, it } from '@jest/globals';
import { HeldImageBuffers } from '../../src/ingest/held-image-buffers.js';
import { ImageBytes } from '../../src/ingest/image-bytes.js';
import { expectAppError, thrownBy } from './helpers.js';

const buffers = new HeldImageBuffers(4 * 1024 * 1024);
afterAll(() => buffers.close());

const bytesOf = (length: number, seed = 1): Buffer =>
  Buffer.from(Array.from({ length }, (_, index) => (index * 31 + seed) % 251));

describe('ImageBytes', () => {
  it('holds appended bytes in one buffer, growing it as needed', () => {
    const image = new ImageBytes(1024 * 1024, buffers, 16);
    const parts = [bytesOf(10), bytesOf(100, 2), bytesOf(1000, 3)];
    for (const part of parts) image.append(part);
    expect(image.heldImage()).toEqual(Buffer.concat(parts));
    expect(image.bytes).toBe(1110);
    image.dispose(false);
  });

  it('takes bytes decoded in place with reserve and commit', () => {
    const image = new ImageBytes(1024, buffers);
    const target = image.reserve(4);
    target.write('abcd', image.heldLength, 'latin1');
    image.commit(4);
    image.append(Buffer.from('ef'));
    expect(image.heldImage().toString('latin1')).toBe('abcdef');
    image.dispose(false);
  });

  it('refuses the byte past the limit, whichever way it comes', () => {
    const appended = new ImageBytes(100, buffers);
    appended.append(bytesOf(100));
    expectAppError(
      thrownBy(() => appended.append(Buffer.of(1))),
      'payload_too_large',
    );
    appended.dispose(false);
    const committed = new ImageBytes(100, buffers);
    committed.reserve(101);
    expectAppError(
      thrownBy(() => committed.commit(101)),
      'payload_too_large',
    );
    committed.dispose(false);
  });

  it('queues chunks once streaming, without copying them', () => {
    const image = new ImageBytes(1024 * 1024, buffers);
    image.append(bytesOf(10));
    expect(image.stopHolding()).toEqual(bytesOf(10));
    const chunk = bytesOf(500, 4);
    image.append(chunk);
    const [taken] = image.takeChunks();
    expect(taken).toBe(chunk);
    expect(image.takeChunks()).toEqual([]);
    expect(image.bytes).toBe(510);
    image.dispose(false);
  });

  it('keeps its buffer when the replacement is the held bytes themselves', () => {
    const image = new ImageBytes(1024, buffers);
    image.append(bytesOf(300));
    const held = image.heldImage();
    image.replaceHeld([held.subarray(0, 100), held.subarray(100)]);
    expect(image.heldImage().buffer).toBe(held.buffer);
    expect(image.heldImage().byteOffset).toBe(held.byteOffset);
    expect(image.heldImage()).toEqual(bytesOf(300));
    image.dispose(false);
  });

  it('copies a replacement that differs, including parts that point into the old buffer', () => {
    const image = new ImageBytes(1024, buffers);
    image.append(bytesOf(300));
    const held = image.heldImage();
    const expected = Buffer.concat([Buffer.from('new'), held.subarray(200)]);
    image.replaceHeld([Buffer.from('new'), held.subarray(200)]);
    expect(image.heldImage()).toEqual(expected);
    expect(image.bytes).toBe(300);
    image.dispose(false);
  });

  it('gives every buffer it took back to the pool', () => {
    const before = buffers.slabsInUse;
    const image = new ImageBytes(1024 * 1024, buffers, 16);
    for (let round = 0; round < 5; round += 1) image.append(bytesOf(1000, round));
    image.replaceHeld([Buffer.from('x')]);
    image.dispose(false);
    expect(buffers.slabsInUse).toBe(before);
  });
});
