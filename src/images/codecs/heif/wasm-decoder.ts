import { readFile } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { isAppError } from '../../../errors.js';
import { type DecodedHeif, type HeifDecodeLimits, type HeifDecoder } from './heif-decoder.js';
// Decoder failures are told as the grammar tells a bad header: nothing of the decoder's own words.
import { tooManyPixels, undecodable } from '../../formats/grammar.js';
import type { HeifWorkerReply, HeifWorkerRequest } from './heif-worker.js';
import { tiffHeaderBytes, writeRgbaTiffHeader } from './rgba-tiff.js';

export interface WasmHeifDecoderOptions {
  /** Worker threads at most; a decode waits for a free one. */
  readonly workers: number;
  /**
   * V8 heap of each worker (its JavaScript, not the WebAssembly memory, which libheif-js caps
   * at 2 GiB and the pixel limit bounds well below that): past it the worker dies with
   * ERR_WORKER_OUT_OF_MEMORY and only its image fails.
   */
  readonly heapLimitMb?: number;
  /** A worker whose WebAssembly memory grew past this is retired after its image (it never shrinks). */
  readonly retireHeapBytes?: number;
  /** The worker script; tests hand in one that crashes, hangs or runs out of memory. */
  readonly workerUrl?: URL;
}

interface Job {
  readonly request: Omit<HeifWorkerRequest, 'id'>;
  readonly timeoutMs: number;
  readonly resolve: (reply: HeifWorkerReply) => void;
  readonly reject: (error: Error) => void;
}

/**
 * How a job ended: the worker's reply, or its failure (crash, out of memory, time limit). Told
 * apart by shape: errors from the worker machinery are of another realm under jest, where
 * `instanceof Error` says no.
 */
type Outcome = { readonly reply: HeifWorkerReply } | { readonly failure: unknown };

interface PooledWorker {
  readonly worker: Worker;
  /** Resolves once libheif is loaded in it. */
  readonly ready: Promise<void>;
  job: { readonly id: number; readonly settle: (outcome: Outcome) => void } | undefined;
}

/** The worker beside this module: its .ts under the tests, its .js once built. */
const defaultWorkerUrl = new URL(
  import.meta.url.endsWith('.ts') ? './heif-worker.ts' : './heif-worker.js',
  import.meta.url,
);

/**
 * libheif (with libde265) compiled to WebAssembly, from npm libheif-js: works wherever
 * `npm install` does, with no system library. Each decode runs in a worker thread, so the
 * event loop never waits on it, and a worker that hangs (killed at the time limit), crashes or
 * runs out of memory takes only its own image down; a new worker replaces it.
 */
export class WasmHeifDecoder implements HeifDecoder {
  readonly description: string;
  private readonly idle: PooledWorker[] = [];
  private readonly all = new Set<PooledWorker>();
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: WasmHeifDecoderOptions) {
    if (!Number.isInteger(options.workers) || options.workers < 1) {
      throw new RangeError(`the HEIF decoder needs at least one worker, got ${options.workers}`);
    }
    this.description = `libheif-js (WebAssembly) in up to ${options.workers} worker threads`;
  }

  async decode(input: Buffer | string, limits: HeifDecodeLimits): Promise<DecodedHeif> {
    const bytes = typeof input === 'string' ? await readFile(input) : input;
    const headerBytes = tiffHeaderBytes(limits.icc);
    const reply = await new Promise<HeifWorkerReply>((resolve, reject) => {
      this.queue.push({
        request: { bytes, maxPixels: limits.maxPixels, headerBytes },
        timeoutMs: limits.timeoutMs,
        resolve,
        reject,
      });
      this.pump();
    });
    if (!reply.ok) {
      if (reply.code === 'too_many_pixels') {
        throw tooManyPixels(reply.width ?? 0, reply.height ?? 0, limits.maxPixels);
      }
      // A poisoned worker's message is the module's own (a trap): not for the client.
      throw undecodable(reply.poisoned ? 'the HEIF decoder failed on it' : reply.message);
    }
    const image = Buffer.from(reply.file);
    writeRgbaTiffHeader(image, reply.width, reply.height, limits.icc);
    return { image, width: reply.width, height: reply.height, hasAlpha: reply.hasAlpha };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(undecodable('the decoder was shut down'));
    await Promise.all([...this.all].map((pooled) => this.retire(pooled)));
  }

  /** Hands queued jobs to idle workers, starting workers up to the limit. */
  private pump(): void {
    while (this.queue.length > 0) {
      if (this.closed) return;
      let pooled = this.idle.pop();
      if (pooled === undefined && this.all.size < this.options.workers) pooled = this.start();
      if (pooled === undefined) return;
      this.run(pooled, this.queue.shift()!);
    }
  }

  private start(): PooledWorker {
    const worker = new Worker(this.options.workerUrl ?? defaultWorkerUrl, {
      resourceLimits: {
        maxOldGenerationSizeMb: this.options.heapLimitMb ?? 64,
        maxYoungGenerationSizeMb: 16,
      },
      // Its stdio is left as Node sets it (piped to ours) rather than read here: a worker's
      // stdout being read refs the worker until it exits. The worker silences libheif itself.
    });
    let signalReady: () => void = () => {};
    let failReady: (error: Error) => void = () => {};
    const ready = new Promise<void>((resolve, reject) => {
      signalReady = resolve;
      failReady = reject;
    });
    // Settled, so that a worker that never comes up leaves no unhandled rejection behind.
    ready.catch(() => undefined);
    const pooled: PooledWorker = { worker, ready, job: undefined };
    worker.on('message', (message: HeifWorkerReply | 'ready') => {
      if (message === 'ready') signalReady();
      else if (pooled.job?.id === message.id) pooled.job.settle({ reply: message });
    });
    // Attached when the worker is made: an uncaught error or ERR_WORKER_OUT_OF_MEMORY in it
    // must end its image, never reach the process as an unhandled 'error' event.
    worker.on('error', (error: Error) => {
      failReady(error);
      pooled.job?.settle({ failure: error });
    });
    worker.on('exit', (code) => {
      this.all.delete(pooled);
      const index = this.idle.indexOf(pooled);
      if (index !== -1) this.idle.splice(index, 1);
      const error = new Error(`the HEIF decoder worker exited with code ${code}`);
      failReady(error);
      pooled.job?.settle({ failure: error });
      this.pump();
    });
    // Idle workers must not keep the process alive (tests, a CLI that decodes one file). After
    // the listeners: adding a 'message' listener refs the worker's port again. A job running
    // keeps the process alive by its time limit's timer.
    worker.unref();
    this.all.add(pooled);
    return pooled;
  }

  private run(pooled: PooledWorker, job: Job): void {
    const id = this.nextId++;
    // The time limit counts from the hand-over, libheif's start-up included: a worker that
    // cannot even load fails its image in time too.
    const timer = setTimeout(() => {
      pooled.job?.settle({ failure: undecodable('it took too long to decode') });
    }, job.timeoutMs);
    pooled.job = {
      id,
      settle: (outcome) => {
        if (pooled.job?.id !== id) return;
        pooled.job = undefined;
        clearTimeout(timer);
        if ('failure' in outcome) {
          // Hung, crashed, out of memory or unable to start: this worker goes, a new one comes.
          const { failure } = outcome;
          void this.retire(pooled);
          job.reject(
            isAppError(failure) ? failure : undecodable('the HEIF decoder failed on it', failure),
          );
          return;
        }
        const { reply } = outcome;
        const retire =
          (!reply.ok && reply.poisoned) ||
          reply.heapBytes > (this.options.retireHeapBytes ?? 256 * 1024 * 1024);
        if (retire) void this.retire(pooled);
        else this.idle.push(pooled);
        job.resolve(reply);
        this.pump();
      },
    };
    pooled.ready.then(
      () => {
        if (pooled.job?.id !== id) return;
        // A copy for the worker: the caller's buffer may be a pooled slab it reuses.
        const bytes = new Uint8Array(job.request.bytes);
        pooled.worker.postMessage({ ...job.request, bytes, id } satisfies HeifWorkerRequest, [
          bytes.buffer,
        ]);
      },
      (error: unknown) => pooled.job?.settle({ failure: error }),
    );
  }

  private async retire(pooled: PooledWorker): Promise<void> {
    this.all.delete(pooled);
    const index = this.idle.indexOf(pooled);
    if (index !== -1) this.idle.splice(index, 1);
    await pooled.worker.terminate();
  }
}
