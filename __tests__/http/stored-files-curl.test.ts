import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { createHttpServer } from '../../src/http/server.js';
import { fixture, makeApp, type AppUnderTest } from '../security/helpers.js';

/**
 * What the real curl does with a served file (local driver): a range (`-r`), a download made
 * only if the file changed (`-z`), and a download resumed where a broken one stopped (`-C -`).
 */

const run = promisify(execFile);
const upload = fixture('phone-o6.jpg');
/** The stored bytes (the service strips metadata, so not quite what was uploaded). */
let photo: Buffer;

let subject: AppUnderTest;
let server: http.Server;
let url: string;
let work: string;

beforeAll(async () => {
  subject = await makeApp('local');
  const created = await request(subject.app.callback())
    .post('/v1/images')
    .set('Content-Type', 'application/octet-stream')
    .send(upload);
  expect(created.status).toBe(201);
  server = createHttpServer(subject.app, subject.config.security);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  url = `http://127.0.0.1:${port}/uploads/${(created.body as { name: string }).name}`;
  work = await mkdtemp(path.join(tmpdir(), 'stored-files-curl-'));
  expect(await curl(path.join(work, 'whole'))).toBe(200);
  photo = await readFile(path.join(work, 'whole'));
  expect(photo.length).toBeGreaterThan(1500);
});

afterAll(async () => {
  server.close();
  await subject.cleanup();
  await rm(work, { recursive: true, force: true });
});

/** Runs curl, writing the body to `out`; returns the status it saw. */
async function curl(out: string, ...args: string[]): Promise<number> {
  const { stdout } = await run('curl', ['-sS', '-o', out, '-w', '%{http_code}', ...args, url]);
  return Number(stdout);
}

describe('served files with curl', () => {
  it('downloads one range with -r', async () => {
    const out = path.join(work, 'range');
    expect(await curl(out, '-r', '100-1099')).toBe(206);
    expect(await readFile(out)).toEqual(photo.subarray(100, 1100));
  });

  it('downloads only when the file is newer than the copy, with -z', async () => {
    const copy = path.join(work, 'copy.jpg');
    await writeFile(copy, photo);
    // A copy dated now is current: 304, and curl leaves it alone.
    expect(await curl(path.join(work, 'unchanged'), '-z', copy)).toBe(304);
    await utimes(copy, new Date('2020-01-01'), new Date('2020-01-01'));
    const fresh = path.join(work, 'fresh');
    expect(await curl(fresh, '-z', copy)).toBe(200);
    expect(await readFile(fresh)).toEqual(photo);
  });

  it('resumes a broken download with -C -', async () => {
    const partial = path.join(work, 'partial.jpg');
    await writeFile(partial, photo.subarray(0, 1234));
    expect(await curl(partial, '-C', '-')).toBe(206);
    expect(await readFile(partial)).toEqual(photo);
  });
});
