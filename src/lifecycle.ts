/**
 * What the HTTP layer and the shutdown sequence share about the process's state. Kept in one
 * small object handed to both, so tests can drive it without signals.
 */
export class Lifecycle {
  private drainingSince: number | undefined;
  private inFlight = 0;
  private readonly idleWaiters = new Set<() => void>();

  /** True once shutdown began: readiness answers 503 and responses close their connection. */
  get draining(): boolean {
    return this.drainingSince !== undefined;
  }

  startDraining(): void {
    this.drainingSince ??= Date.now();
  }

  /** Requests being handled right now. */
  get requestsInFlight(): number {
    return this.inFlight;
  }

  requestStarted(): void {
    this.inFlight += 1;
  }

  requestFinished(): void {
    this.inFlight -= 1;
    if (this.inFlight === 0) {
      for (const wake of this.idleWaiters) wake();
      this.idleWaiters.clear();
    }
  }

  /** Resolves true when no request is in flight, or false when `timeoutMs` passes first. */
  async whenIdle(timeoutMs: number): Promise<boolean> {
    if (this.inFlight === 0) return true;
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.idleWaiters.delete(wake);
        resolve(false);
      }, timeoutMs);
      this.idleWaiters.add(wake);
    });
  }
}
