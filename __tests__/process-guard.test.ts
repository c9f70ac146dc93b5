import { describe, expect, it } from '@jest/globals';
import { EventEmitter } from 'node:events';
import { createMetrics } from '../src/metrics.js';
import { guardProcess } from '../src/process-guard.js';
import { LogCapture } from './security/helpers.js';

describe('guardProcess', () => {
  it('logs and counts an uncaught exception and an unhandled rejection, until uninstalled', async () => {
    const target = new EventEmitter();
    const log = new LogCapture();
    const metrics = createMetrics({ processMetrics: false });
    const uninstall = guardProcess(target, log.logger, metrics);

    target.emit('uncaughtException', new Error('thrown by nobody'), 'uncaughtException');
    target.emit('unhandledRejection', new Error('rejected for nobody'));

    const counted = (await metrics.uncaughtErrors.get()).values.map(({ labels, value }) => [
      labels.kind,
      value,
    ]);
    expect(counted.sort()).toEqual([
      ['exception', 1],
      ['rejection', 1],
    ]);
    const lines = log.lines.map((line) => JSON.parse(line) as { level: number; msg: string });
    expect(lines.map((line) => [line.level, line.msg])).toEqual([
      [50, 'uncaught exception (a bug): the process serves on'],
      [50, 'unhandled rejection (a bug): the process serves on'],
    ]);
    expect(log.text()).toContain('thrown by nobody');

    uninstall();
    expect(target.listenerCount('uncaughtException')).toBe(0);
    expect(target.listenerCount('unhandledRejection')).toBe(0);
  });
});
