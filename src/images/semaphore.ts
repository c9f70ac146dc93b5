/** Runs tasks with at most `size` of them in flight; the rest wait, first come, first served. */
export interface ConcurrencyLimit {
  /**
   * Runs `task` once a place is free. A task still waiting when `signal` aborts never runs:
   * the promise rejects with the signal's reason and the place goes to the next in line.
   */
  run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T>;
}

export class Semaphore implements ConcurrencyLimit {
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(`a semaphore needs a whole size of at least 1, got ${size}`);
    }
  }

  /** Tasks running now. */
  get running(): number {
    return this.inFlight;
  }

  /** Tasks waiting for a place. */
  get queued(): number {
    return this.waiting.length;
  }

  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  private acquire(signal: AbortSignal | undefined): Promise<void> {
    signal?.throwIfAborted();
    if (this.inFlight < this.size) {
      this.inFlight += 1;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        const index = this.waiting.indexOf(grant);
        if (index !== -1) this.waiting.splice(index, 1);
        reject(signal?.reason as Error);
      };
      const grant = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(grant);
    });
  }

  private release(): void {
    const next = this.waiting.shift();
    // The place passes straight to the next task, so a newcomer cannot overtake the queue.
    if (next === undefined) this.inFlight -= 1;
    else next();
  }
}
