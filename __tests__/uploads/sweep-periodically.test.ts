import { describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { sweepPeriodically, type SweepResult } from '../../src/uploads/sweep.js';

describe('sweepPeriodically', () => {
  it('runs one sweep at a time, reports each, and stops for good', async () => {
    let running = 0;
    let mostAtOnce = 0;
    let runs = 0;
    const reported: SweepResult[] = [];
    // Each run outlasts several ticks: the ticks that find it running are skipped.
    const slowSweep = async (): Promise<SweepResult> => {
      running += 1;
      runs += 1;
      mostAtOnce = Math.max(mostAtOnce, running);
      await sleep(60);
      running -= 1;
      return { checked: 1, removed: 0, failed: runs === 1 ? 1 : 0 };
    };
    const stop = sweepPeriodically(slowSweep, 10, (result) => reported.push(result), () => {
      throw new Error('no sweep failed');
    });
    await sleep(300);
    stop();
    await sleep(80);
    const afterStop = runs;
    await sleep(100);
    expect(mostAtOnce).toBe(1);
    expect(runs).toBeGreaterThanOrEqual(2);
    expect(runs).toBe(afterStop);
    expect(reported[0]).toEqual({ checked: 1, removed: 0, failed: 1 });
  });

  it('hands a failed sweep to onError and sweeps again at the next tick', async () => {
    const errors: unknown[] = [];
    let runs = 0;
    const stop = sweepPeriodically(
      () => {
        runs += 1;
        return Promise.reject(new Error('store down'));
      },
      10,
      () => undefined,
      (error) => errors.push(error),
    );
    await sleep(100);
    stop();
    expect(runs).toBeGreaterThanOrEqual(2);
    expect(errors.length).toBe(runs);
  });
});
