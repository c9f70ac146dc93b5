import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * The built service (node dist/index.js; `npm run build` first) given a bad setting: it exits
 * with status 1 and one fatal log line that names the variable, instead of a stack trace from
 * wherever the value was first used (a RangeError from http.createServer, pino's "unknown
 * level").
 */

const node = path.resolve('node_modules/.bin/node');

async function startWith(
  env: Record<string, string>,
): Promise<{ code: number | null; out: string }> {
  const uploadDir = await mkdtemp(path.join(tmpdir(), 'config-process-'));
  try {
    const child = spawn(node, ['dist/index.js'], {
      env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: '0', UPLOAD_DIR: uploadDir, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    return { code, out };
  } finally {
    await rm(uploadDir, { recursive: true, force: true });
  }
}

describe('the service refuses a bad setting at start-up, naming it', () => {
  it.each([
    [{ REQUEST_TIMEOUT_MS: '1000' }, 'REQUEST_TIMEOUT_MS'],
    [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL'],
    [{ NODE_ENV: 'Production' }, 'ALLOW_ANONYMOUS'],
  ])('%j', async (env, variable) => {
    const { code, out } = await startWith(env);
    expect(code).toBe(1);
    const lines = out
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { level: number; variable?: string; msg: string });
    expect(lines).toEqual([expect.objectContaining({ level: 60, variable })]);
  });
});
