import { afterEach, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { HeldImageBuffers } from '../../src/ingest/held-image-buffers.js';

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

let buffers: HeldImageBuffers;
afterEach(async () => {
  await buffers.close();
});

describe('HeldImageBuffers', () => {
  it('gives a released slab to the next image that fits it', () => {
    buffers = new HeldImageBuffers(1024 * 1024);
    const first = buffers.acquire(1000);
    expect(first.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(first.length).toBeGreaterThanOrEqual(1000);
    buffers.release(first);
    expect(buffers.acquire(2000).buffer).toBe(first.buffer);
    // Taken again: the next image gets a slab of its own.
    expect(buffers.acquire(2000).buffer).not.toBe(first.buffer);
  });

  it('hashes slab images on the worker and private ones here, to the same sha256', async () => {
    buffers = new HeldImageBuffers(16 * 1024 * 1024);
    const large = Array.from({ length: 12 }, (_, index) => {
      const slab = buffers.acquire(300_000 + index * 1000);
      slab.fill(index + 1);
      return slab.subarray(0, 300_000 + index * 1000);
    });
    const small = buffers.acquire(50_000).fill(9).subarray(0, 50_000);
    const privateImage = Buffer.alloc(300_000, 7);
    const images = [...large, small, privateImage];
    const hashes = await Promise.all(images.map((image) => buffers.sha256(image)));
    expect(hashes).toEqual(images.map(sha256));
    expect(buffers.hashedOnWorker).toBe(large.length + 1);
  });

  it('hands out private buffers once its slabs reach the bound', () => {
    buffers = new HeldImageBuffers(256 * 1024);
    const slabs = [buffers.acquire(100_000), buffers.acquire(100_000)];
    expect(slabs.every((slab) => slab.buffer instanceof SharedArrayBuffer)).toBe(true);
    const overflow = buffers.acquire(100_000);
    expect(overflow.buffer).not.toBeInstanceOf(SharedArrayBuffer);
    // A private buffer given back is not pooled.
    buffers.release(overflow);
    expect(buffers.acquire(100_000).buffer).not.toBe(overflow.buffer);
  });

  it('keeps a slab whose write failed out of use for a while', async () => {
    buffers = new HeldImageBuffers(1024 * 1024);
    const slab = buffers.acquire(1000);
    buffers.release(slab, true);
    const meanwhile = buffers.acquire(1000);
    expect(meanwhile.buffer).not.toBe(slab.buffer);
    await sleep(1200);
    expect(buffers.acquire(1000).buffer).toBe(slab.buffer);
  });

  it('keeps nothing alive while idle: its worker and the worker port are unref-ed', async () => {
    const keepingAlive = (): number =>
      process
        .getActiveResourcesInfo()
        .filter((resource) => resource === 'MessagePort' || resource === 'Worker').length;
    const before = keepingAlive();
    buffers = new HeldImageBuffers(4 * 1024 * 1024);
    const image = buffers.acquire(300_000).fill(5);
    // Idle with a worker started (a port with a 'message' listener would hold the process).
    expect(keepingAlive()).toBe(before);
    expect(await buffers.sha256(image)).toBe(sha256(image));
    expect(buffers.hashedOnWorker).toBe(1);
    expect(keepingAlive()).toBe(before);
  });

  it('still hashes its slabs once its worker is gone', async () => {
    buffers = new HeldImageBuffers(4 * 1024 * 1024);
    const image = buffers.acquire(300_000).fill(3).subarray(0, 299_999);
    expect(await buffers.sha256(image)).toBe(sha256(image));
    expect(buffers.hashedOnWorker).toBe(1);
    await buffers.close();
    expect(await buffers.sha256(image)).toBe(sha256(image));
    expect(buffers.hashedOnWorker).toBe(1);
    // New slabs after that go to a new worker.
    const next = buffers.acquire(300_000).fill(4);
    expect(await buffers.sha256(next)).toBe(sha256(next));
    expect(buffers.hashedOnWorker).toBe(2);
  });
});
