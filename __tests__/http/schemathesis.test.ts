import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHttpServer } from '../../src/http/server.js';
import { makeApp, type AppUnderTest } from '../security/helpers.js';
import { runToEnd } from '../support/run-to-end.js';

/**
 * schemathesis (PyPI, pinned; scripts/ensure-python-tools.mjs installs it into .tools/) reads the
 * served /openapi.json and sends what it generates from it, examples and fuzzed cases, to a real
 * server on the local driver: no answer may be a 5xx, and every answer must have a declared
 * status, Content-Type and body schema. The conformance check of the test support runs too.
 */

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const schemathesis = path.join(root, '.tools/venv-schemathesis/bin/schemathesis');

/** schemathesis with the test's hooks, in `cwd`. */
function runSchemathesis(args: string[], cwd: string): ReturnType<typeof runToEnd> {
  return runToEnd(schemathesis, args, {
    // It keeps a cache of what it found (.schemathesis/) in its working directory.
    cwd,
    env: {
      ...process.env,
      SCHEMATHESIS_TELEMETRY: 'false',
      SCHEMATHESIS_HOOKS: path.join(root, '__tests__/http/schemathesis_hooks.py'),
      NO_COLOR: '1',
    },
  });
}

describe('schemathesis against the served document', () => {
  let subject: AppUnderTest;
  let server: Server;
  let baseUrl: string;
  let workDir: string;

  beforeAll(async () => {
    workDir = await mkdtemp(path.join(tmpdir(), 'schemathesis-'));
    subject = await makeApp('local', {});
    server = createHttpServer(subject.app, subject.config.security);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    baseUrl = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await subject.cleanup();
    await rm(workDir, { recursive: true, force: true });
  });

  it('finds no server error and no answer outside the document', async () => {
    const run = (): Promise<{ code: number | null; output: string }> =>
      runSchemathesis(schemathesisArguments, workDir);
    const schemathesisArguments = [
      '--config-file',
      path.join(root, '__tests__/http/schemathesis.toml'),
      '--no-color',
      'run',
      `${baseUrl}/openapi.json`,
      '--url',
      baseUrl,
      '--checks',
      'not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance',
      '--max-examples',
      '20',
      // The whole run, on a shared 2-core machine; fuzzing repeats until it is spent.
      '--max-time',
      '30',
      '--workers',
      '2',
      '--seed',
      '1',
    ];
    let { code, output } = await run();
    // A crash inside schemathesis' own generator (hypothesis' lambda-source cache raising a
    // FlakyFailure on POST /v1/images' body, seen in two runs of 2026-12-07) is no finding
    // about this service: such a run is made once more. A failed check is never retried.
    if (code !== 0 && /Runtime Error/.test(output) && !/FAILURES/.test(output)) {
      ({ code, output } = await run());
    }
    // SCHEMATHESIS_REPORT=<file> keeps its whole report (quoted in closing notes).
    const report = process.env.SCHEMATHESIS_REPORT;
    if (report !== undefined) await writeFile(report, output);
    if (code !== 0) throw new Error(`schemathesis failed (exit ${code}):\n${output}`);
    // Every operation schemathesis took from the document (direct uploads too) was reached.
    const total = /Selected: \d+\/(\d+)/.exec(output)?.[1];
    expect(Number(total)).toBeGreaterThanOrEqual(20);
    expect(output).toMatch(new RegExp(`Tested: ${total}\\b`));
  }, 90_000);
});
