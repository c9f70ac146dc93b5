import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

/**
 * The buffers images are decoded into while they are held whole, and their sha256.
 *
 * Two costs dominated a 1 MiB upload on the event loop, which bounds the service on a small
 * machine: hashing the image (as much as receiving, parsing and decoding it) and garbage
 * collection, which V8 runs more often the more external memory is allocated. So held images
 * live in SharedArrayBuffer slabs that are reused from one request to the next, and a worker
 * thread hashes them in place: each slab is sent to the worker once, when it is made, and a
 * job names only the slab and a length. Nothing is copied (WebCrypto copies its input and
 * costs twice the CPU in all) and no slab is left for the worker's garbage collector to free
 * (sending a new SharedArrayBuffer per image kept hundreds of MiB alive in the worker).
 *
 * The slabs are bounded (`maxPooledBytes`); past that, a held image gets a private buffer,
 * hashed on this thread.
 */

/** Smallest slab; every slab is a power of two from here, so slabs fit many sizes of image. */
const smallestSlab = 64 * 1024;

/**
 * A failed write may, in principle, still have I/O reading the buffer when its promise
 * settles (a request being torn down). A slab whose write failed waits this long before
 * anyone else may write into it.
 */
const quarantineMs = 1000;

/** CommonJS, evaluated: no file to resolve, the same under jest (src/) and in dist/. */
const workerSource = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const slabs = new Map();
parentPort.on('message', (message) => {
  if (message.type === 'add') {
    slabs.set(message.slab, new Uint8Array(message.memory));
    return;
  }
  const { job, slab, length } = message;
  try {
    const hash = createHash('sha256').update(slabs.get(slab).subarray(0, length)).digest('hex');
    parentPort.postMessage({ job, hash });
  } catch (error) {
    parentPort.postMessage({ job, error: String(error) });
  }
});
`;

interface Reply {
  readonly job: number;
  readonly hash?: string;
  readonly error?: string;
}

interface Slab {
  readonly id: number;
  readonly memory: SharedArrayBuffer;
  readonly buffer: Buffer;
}

export class HeldImageBuffers {
  private worker: Worker | undefined;
  private readonly jobs = new Map<number, (hash: string | undefined) => void>();
  private nextJob = 0;
  private nextSlab = 0;
  /** Free slabs by size. */
  private readonly free = new Map<number, Slab[]>();
  /** Slabs by the memory their buffers view: how a buffer handed out is recognised. */
  private readonly slabs = new Map<SharedArrayBuffer, Slab>();
  private slabBytes = 0;
  private workerHashes = 0;

  constructor(private readonly maxPooledBytes = 64 * 1024 * 1024) {}

  /** A buffer of at least `minBytes`: a free slab, a new one while the pool has room, else private. */
  acquire(minBytes: number): Buffer {
    let size = smallestSlab;
    while (size < minBytes) size *= 2;
    const reused = this.free.get(size)?.pop();
    if (reused !== undefined) return reused.buffer;
    if (this.slabBytes + size > this.maxPooledBytes) return Buffer.allocUnsafe(minBytes);
    let worker: Worker;
    try {
      worker = this.startWorker();
    } catch {
      // No worker to be had (thread limits): a private buffer, hashed on this thread.
      return Buffer.allocUnsafe(minBytes);
    }
    const memory = new SharedArrayBuffer(size);
    const slab = { id: this.nextSlab++, memory, buffer: Buffer.from(memory) };
    this.slabs.set(memory, slab);
    this.slabBytes += size;
    worker.postMessage({ type: 'add', slab: slab.id, memory });
    return slab.buffer;
  }

  /**
   * Gives a buffer from `acquire` back. After a failed write (`afterFailedWrite`), the slab
   * waits before it is reused; a private buffer is simply left to the garbage collector.
   */
  release(buffer: Buffer, afterFailedWrite = false): void {
    const slab = this.slabOf(buffer);
    if (slab === undefined) return;
    const putBack = (): void => {
      // A slab the pool forgot meanwhile (its worker went away) is left to the collector.
      if (this.slabs.get(slab.memory) !== slab) return;
      const list = this.free.get(slab.memory.byteLength) ?? [];
      if (!list.includes(slab)) list.push(slab);
      this.free.set(slab.memory.byteLength, list);
    };
    if (afterFailedWrite) setTimeout(putBack, quarantineMs).unref();
    else putBack();
  }

  /** The hex sha256 of `image`, a view of a buffer from `acquire` (or any other buffer). */
  async sha256(image: Buffer): Promise<string> {
    const slab = this.slabOf(image);
    if (slab !== undefined && image.byteOffset === 0 && this.worker !== undefined) {
      const worker = this.worker;
      const job = this.nextJob++;
      const hash = await new Promise<string | undefined>((resolve) => {
        if (this.jobs.size === 0) worker.ref();
        this.jobs.set(job, resolve);
        worker.postMessage({ type: 'hash', job, slab: slab.id, length: image.length });
      });
      // undefined: the worker failed under this job; the hash is still owed.
      if (hash !== undefined) {
        this.workerHashes += 1;
        return hash;
      }
    }
    return createHash('sha256').update(image).digest('hex');
  }

  /** Slabs handed out and not yet back in the pool (quarantined ones included). */
  get slabsInUse(): number {
    let free = 0;
    for (const list of this.free.values()) free += list.length;
    return this.slabs.size - free;
  }

  /** How many images the worker has hashed (the rest were hashed on the event loop). */
  get hashedOnWorker(): number {
    return this.workerHashes;
  }

  /** Stops the worker (it never keeps the process alive while idle, so this is optional). */
  async close(): Promise<void> {
    const worker = this.worker;
    this.forgetWorker();
    await worker?.terminate();
  }

  private slabOf(buffer: Buffer): Slab | undefined {
    return buffer.buffer instanceof SharedArrayBuffer ? this.slabs.get(buffer.buffer) : undefined;
  }

  private startWorker(): Worker {
    if (this.worker !== undefined) return this.worker;
    const worker = new Worker(workerSource, { eval: true });
    worker.on('message', (reply: Reply) => {
      const resolve = this.jobs.get(reply.job);
      this.jobs.delete(reply.job);
      if (this.jobs.size === 0) worker.unref();
      resolve?.(reply.hash);
    });
    const fail = (): void => {
      if (this.worker === worker) this.forgetWorker();
    };
    worker.on('error', fail);
    worker.on('exit', fail);
    // Idle, it must not keep the process alive; with jobs pending, it must (see sha256). After
    // the listeners: a 'message' listener added later refs the worker's port again.
    worker.unref();
    this.worker = worker;
    return worker;
  }

  /**
   * Without its worker, the slabs it knew cannot be hashed there: they are dropped (the
   * next ones go to a new worker) and their pending jobs are hashed on this thread.
   */
  private forgetWorker(): void {
    this.worker = undefined;
    this.free.clear();
    this.slabs.clear();
    this.slabBytes = 0;
    for (const resolve of this.jobs.values()) resolve(undefined);
    this.jobs.clear();
  }
}

let processWide: HeldImageBuffers | undefined;

/**
 * The pool every app of this process shares unless it is given its own: slabs and the worker
 * are process resources, and apps made per test or per tenant should not each start a worker.
 * Made on first call, not on import.
 */
export function sharedHeldImageBuffers(): HeldImageBuffers {
  processWide ??= new HeldImageBuffers();
  return processWide;
}
