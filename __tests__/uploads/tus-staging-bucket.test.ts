import { describe, expect, it } from '@jest/globals';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { useHarnesses, type Harness } from '../http/harness.js';
import { createTestBucket, listObjectNames } from '../support/gcs.js';
import { drivers, fixture } from '../support/requests.js';
import { patchHeaders, useTusServers, uploadPath, type TusServer } from './tus-client.js';

const harnessFor = useHarnesses();
const serveTusFor = useTusServers();

/** A listening harness, closed after the test, and a new upload of `length` bytes on it. */
async function serveUpload(harness: Harness, length: number): Promise<{ server: TusServer; at: string }> {
  const server = await serveTusFor(harness);
  const response = await server.call('POST', '/v1/uploads', { 'Upload-Length': String(length) });
  expect(response.status).toBe(201);
  return { server, at: uploadPath(response.headers.location) };
}

(drivers.includes('gcs') ? describe : describe.skip)('tus staging with GCS_STAGING_BUCKET', () => {
  it('keeps pieces and records in the staging bucket, none in the images bucket', async () => {
    const staging = await createTestBucket();
    const harness = await harnessFor('gcs', { GCS_STAGING_BUCKET: staging.name });
    // Larger than two sniff samples: the first half is staged as a piece, not held in the
    // record until the type is known.
    const png = fixture('phone.png');
    const { server, at } = await serveUpload(harness, png.length);
    const id = at.split('/').pop() ?? '';
    const half = Math.floor(png.length / 2);
    expect((await server.call('PATCH', at, patchHeaders(0), png.subarray(0, half))).status).toBe(204);

    const prefix = `${harness.config.staging.prefix}tus/${id}/`;
    const staged = await listObjectNames(staging);
    expect(staged).toContain(`${prefix}upload.json`);
    expect(staged.filter((name) => name.startsWith(prefix) && !name.endsWith('upload.json'))).not.toEqual([]);
    expect(await harness.storedNames()).toEqual([]);

    const last = await server.call('PATCH', at, patchHeaders(half), png.subarray(half));
    expect(last.status).toBe(204);
    const imageId = last.headers['image-id'];
    expect((await harness.storedNames()).some((name) => name.startsWith(`${imageId}.`))).toBe(true);
    expect((await harness.storedNames()).filter((name) => name.startsWith('staging/'))).toEqual([]);
    expect(await listObjectNames(staging)).toEqual([`${prefix}upload.json`]);
  });
});

describe.each(drivers)('a finished anonymous tus upload (%s)', (driver) => {
  it('answers GET with a delete token that works, and its record holds none', async () => {
    const harness = await harnessFor(driver);
    const png = fixture('photo.png');
    const { server, at } = await serveUpload(harness, png.length);
    const id = at.split('/').pop() ?? '';
    expect((await server.call('PATCH', at, patchHeaders(0), png)).status).toBe(204);

    const record = await stagedRecordText(harness, id);
    expect(record).toContain('"state":"done"');
    expect(record).not.toContain('deleteToken');

    const status = await server.call('GET', at);
    expect(status.status).toBe(200);
    const image = status.body as { id: string; deleteToken?: string };
    expect(image.deleteToken).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect((await server.call('GET', at)).body).toEqual(image);

    const wrong = await server.call('DELETE', `/v1/images/${image.id}`, { 'Delete-Token': 'x' });
    expect(wrong.status).toBeGreaterThanOrEqual(400);
    const deleted = await server.call('DELETE', `/v1/images/${image.id}`, {
      'Delete-Token': image.deleteToken ?? '',
    });
    expect(deleted.status).toBe(204);
  });
});

/** The staged record as the driver keeps it, read around the app. */
async function stagedRecordText(harness: Harness, id: string): Promise<string> {
  if (harness.config.storage.driver === 'local') {
    const folder = path.join(harness.config.storage.uploadDir, '.staging', 'tus', id);
    const records = (await readdir(folder)).filter((name) => name.startsWith('record.'));
    const texts = await Promise.all(records.map((name) => readFile(path.join(folder, name), 'utf8')));
    return texts.join('\n');
  }
  const name = `${harness.config.staging.prefix}tus/${id}/upload.json`;
  return (await harness.storedBytes(name)).toString('utf8');
}
