import { beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readNodeEngine, unmetNodeEngine } from '../src/node-engine.js';
import { runToEnd } from './support/run-to-end.js';

/**
 * The built service (dist/index.js) started with the machine's own Node, older than the
 * project's engines (Node 20 here; npm scripts and the tests run the pinned one): it must stop
 * at once, saying which Node it needs, rather than listen and fail request by request.
 */

const systemNode = '/usr/bin/node';

beforeAll(() => {
  execFileSync('node_modules/.bin/tsc', ['-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}, 120_000);

function runService(env: Record<string, string>): ReturnType<typeof runToEnd> {
  return runToEnd(systemNode, ['dist/index.js'], {
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: '0', RATE_LIMIT: '0', ...env },
  });
}

describe('the built service on a Node older than engines', () => {
  it('refuses to start, naming the Node it needs, before it opens anything', async () => {
    const systemVersion = execFileSync(systemNode, ['-p', 'process.versions.node'], {
      encoding: 'utf8',
    }).trim();
    // The case only shows something on an older system Node: say so if the machine changed.
    const engine = await readNodeEngine();
    expect(unmetNodeEngine(engine, systemVersion)).toMatch(/needs Node/);

    const uploadDir = await mkdtemp(path.join(tmpdir(), 'old-node-'));
    try {
      const { code, output } = await runService({ UPLOAD_DIR: path.join(uploadDir, 'images') });
      expect(code).toBe(1);
      const line = JSON.parse(output.trim().split('\n').at(-1)!) as Record<string, unknown>;
      expect(line).toMatchObject({
        level: 60,
        node: systemVersion,
        msg: `image-ingest needs Node ${engine} (package.json engines.node); this is Node ${systemVersion}`,
      });
      expect(output).not.toContain('listening');
      // It stopped before the store was made.
      expect(await readdir(uploadDir)).toEqual([]);
    } finally {
      await rm(uploadDir, { recursive: true, force: true });
    }
  });
});
