import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { createApp } from '../../src/http/app.js';
import { sniffSampleBytes } from '../../src/ingest/sniff.js';
import type { UploadRecord } from '../../src/uploads/upload-record.js';
import { silentLogger, useHarnesses, type Harness } from '../http/harness.js';
import { photoWithExif } from '../support/exif-photo.js';
import { drivers, sha256 } from '../support/requests.js';
import { patchHeaders, stagedPieceCount, uploadPath, useTusServers } from './tus-client.js';

/**
 * A tus upload checked as it arrives: its pieces hold the stripped image, and the finish
 * publishes them without reading them again in structure mode (the local driver copies
 * several pieces into one file, links a single one; GCS composes), or reads them once through
 * the pipeline in decode mode. Either way the image is the one a single POST stores.
 */

const harnessFor = useHarnesses();
const serveTus = useTusServers();

/** A second app over the same store and staging: another instance, without this one's walks. */
function anotherInstance(
  harness: Harness,
  config: Harness['config'] = harness.config,
): ReturnType<typeof serveTus> {
  return serveTus({
    ...harness,
    callback: createApp(config, {
      store: harness.store,
      logger: silentLogger,
      staging: harness.staging,
    }).callback(),
  });
}

describe.each(drivers)('a tus upload checked as it arrives (%s)', (driver) => {
  // Structure mode reads nothing back through readPieces: composed on GCS; on the local
  // driver one piece is linked, and several are copied into one file (LocalByteArea's
  // concatenate: read once, not streamed through the pipeline) that is then linked.
  it.each([
    ['structure', 48 * 1024, 0],
    ['structure', 1024 * 1024, 0],
    ['decode', 48 * 1024, 1],
  ] as const)(
    'IMAGE_VALIDATION=%s in PATCHes of %i bytes: staged stripped, read back %i time(s), stored as one POST stores it',
    async (mode, chunk, readsAtFinish) => {
      const harness = await harnessFor(driver, { IMAGE_VALIDATION: mode });
      const server = await serveTus(harness);
      const staging = harness.staging.tus.bytes;
      const readPieces = staging.readPieces.bind(staging);
      let reads = 0;
      staging.readPieces = (id, pieces) => {
        reads += 1;
        return readPieces(id, pieces);
      };
      const photo = await photoWithExif(600, 400);
      const created = await server.call('POST', '/v1/uploads', {
        'Upload-Length': String(photo.length),
      });
      const at = uploadPath(created.headers.location);
      const id = at.split('/').pop() ?? '';
      for (let offset = 0; offset < photo.length; offset += chunk) {
        const body = photo.subarray(offset, offset + chunk);
        const answer = await server.call('PATCH', at, patchHeaders(offset), body);
        expect(answer.status).toBe(204);
        if (offset === chunk) {
          // What is staged is the image without its EXIF block (orientation kept).
          expect(await stagedPieceCount(harness, id)).toBeGreaterThan(0);
        }
      }
      expect(reads).toBe(readsAtFinish);

      const status = await server.call('GET', at);
      const image = status.body as { name: string; sha256: string; width: number };
      const stored = await harness.storedBytes(image.name);
      expect(sha256(stored)).toBe(image.sha256);
      expect(stored.includes('Ann Owner')).toBe(false);
      const posted = await server.call('POST', '/v1/images', { 'Content-Type': 'image/jpeg' }, photo);
      expect(posted.status).toBe(201);
      const direct = posted.body as { name: string; sha256: string; width: number };
      expect(image.sha256).toBe(direct.sha256);
      expect(image.width).toBe(direct.width);
      expect(stored.equals(await harness.storedBytes(direct.name))).toBe(true);
      expect(await stagedPieceCount(harness, id)).toBe(0);
    },
  );

  it('another instance catches up from what is staged and the tail piece its record names, a PATCH having ended inside the EXIF block', async () => {
    const harness = await harnessFor(driver, { IMAGE_VALIDATION: 'structure' });
    const first = await serveTus(harness);
    const other = await anotherInstance(harness);
    const photo = await photoWithExif(600, 400);
    const exifEnd = 4 + photo.readUInt16BE(4);
    const cut = Math.floor((sniffSampleBytes + exifEnd) / 2);
    const created = await first.call('POST', '/v1/uploads', {
      'Upload-Length': String(photo.length),
    });
    const at = uploadPath(created.headers.location);
    const id = at.split('/').pop() ?? '';
    expect((await first.call('PATCH', at, patchHeaders(0), photo.subarray(0, cut))).status).toBe(
      204,
    );
    const record = (await harness.staging.tus.records.read(id))!.record as UploadRecord;
    // The walk holds the EXIF segment read so far: staged beside the pieces as the tail piece,
    // which the record names (small: not the bytes).
    const tailPiece = record.arrival?.tailPiece;
    expect(tailPiece?.size).toBe(cut - 2);
    expect(JSON.stringify(record).length).toBeLessThan(2048);
    // An instance that predates the tail piece reads no tail, and starts the upload again.
    expect(record.arrival?.tail).toBeNull();
    const rest = await other.call('PATCH', at, patchHeaders(cut), photo.subarray(cut));
    expect(rest.status).toBe(204);
    const image = (await other.call('GET', at)).body as { name: string; sha256: string };
    const posted = await other.call('POST', '/v1/images', { 'Content-Type': 'image/jpeg' }, photo);
    expect(image.sha256).toBe((posted.body as { sha256: string }).sha256);
  });

  it('starts the upload again from offset 0 when the walk cannot be established, and then publishes it', async () => {
    const harness = await harnessFor(driver, { IMAGE_VALIDATION: 'structure' });
    const server = await serveTus(harness);
    const staging = harness.staging.tus.records;
    const photo = await photoWithExif(600, 400);
    const created = await server.call('POST', '/v1/uploads', {
      'Upload-Length': String(photo.length),
    });
    const at = uploadPath(created.headers.location);
    const id = at.split('/').pop() ?? '';
    const half = Math.floor(photo.length / 2);
    expect((await server.call('PATCH', at, patchHeaders(0), photo.subarray(0, half))).status).toBe(
      204,
    );
    // As a record whose tail was too long to keep reads, on an instance without the walk.
    const { record, version } = (await staging.read(id))!;
    const held = record as UploadRecord;
    await staging.replace(
      id,
      { ...held, arrival: { staged: held.arrival!.staged + 1, tail: null } },
      version,
    );
    const refused = await server.call('PATCH', at, patchHeaders(half), photo.subarray(half));
    expect(refused.status).toBe(409);
    const head = await server.call('HEAD', at);
    expect(head.headers['upload-offset']).toBe('0');
    expect(await stagedPieceCount(harness, id)).toBe(0);
    expect((await server.call('PATCH', at, patchHeaders(0), photo)).status).toBe(204);
    const image = (await server.call('GET', at)).body as { sha256: string };
    const posted = await server.call('POST', '/v1/images', { 'Content-Type': 'image/jpeg' }, photo);
    expect(image.sha256).toBe((posted.body as { sha256: string }).sha256);
  });
  it('a walk held by one instance is not taken after another restarted the upload and other bytes reached the same offset', async () => {
    const harness = await harnessFor(driver, { IMAGE_VALIDATION: 'structure' });
    const first = await serveTus(harness);
    const other = await anotherInstance(harness);
    const x = await photoWithExif(600, 400);
    const half = Math.floor(x.length / 2);
    // Y: X with one bit of its entropy-coded data flipped before `half` (no marker made).
    const y = Buffer.from(x);
    let at = half - 200;
    while (y[at] === 0xff || y[at - 1] === 0xff || (y[at]! ^ 1) === 0xff) at++;
    y[at]! ^= 1;
    const created = await first.call('POST', '/v1/uploads', { 'Upload-Length': String(x.length) });
    const path = uploadPath(created.headers.location);
    const id = path.split('/').pop() ?? '';
    expect((await first.call('PATCH', path, patchHeaders(0), x.subarray(0, half))).status).toBe(204);
    // The other instance cannot catch up (a tail too long to keep) and starts the upload again;
    // the client sends Y to the same offset there. `first` still holds its walk of X at it.
    const { record, version } = (await harness.staging.tus.records.read(id))!;
    const held = record as UploadRecord;
    await harness.staging.tus.records.replace(
      id,
      { ...held, arrival: { ...held.arrival!, tail: null } },
      version,
    );
    expect((await other.call('PATCH', path, patchHeaders(half), x.subarray(half))).status).toBe(409);
    expect((await other.call('PATCH', path, patchHeaders(0), y.subarray(0, half))).status).toBe(204);
    expect((await first.call('PATCH', path, patchHeaders(half), x.subarray(half))).status).toBe(204);

    const image = (await first.call('GET', path)).body as { name: string; sha256: string };
    const stored = await harness.storedBytes(image.name);
    expect(sha256(stored)).toBe(image.sha256);
    const sent = Buffer.concat([y.subarray(0, half), x.subarray(half)]);
    const posted = await first.call('POST', '/v1/images', { 'Content-Type': 'image/jpeg' }, sent);
    expect(image.sha256).toBe((posted.body as { sha256: string }).sha256);
  });
  it('a checksum-protected PATCH damaged in transit, which the walk refuses, is a 460, not a refused upload', async () => {
    const harness = await harnessFor(driver, { IMAGE_VALIDATION: 'structure' });
    const server = await serveTus(harness);
    const photo = await photoWithExif(600, 400);
    const created = await server.call('POST', '/v1/uploads', {
      'Upload-Length': String(photo.length),
    });
    const at = uploadPath(created.headers.location);
    const chunk = photo.subarray(0, 64 * 1024);
    const checksum = `sha256 ${createHash('sha256').update(chunk).digest('base64')}`;
    // The JPEG's first marker damaged: the sniff refuses what arrived.
    const damaged = Buffer.from(chunk);
    damaged[0] = 0;
    const bad = await server.call(
      'PATCH',
      at,
      { ...patchHeaders(0), 'Upload-Checksum': checksum },
      damaged,
    );
    expect(bad.status).toBe(460);
    expect((await server.call('HEAD', at)).headers['upload-offset']).toBe('0');
    const good = await server.call(
      'PATCH',
      at,
      { ...patchHeaders(0), 'Upload-Checksum': checksum },
      chunk,
    );
    expect(good.status).toBe(204);
    expect((await server.call('PATCH', at, patchHeaders(chunk.length), photo.subarray(chunk.length))).status).toBe(204);
    const image = (await server.call('GET', at)).body as { sha256: string };
    const posted = await server.call('POST', '/v1/images', { 'Content-Type': 'image/jpeg' }, photo);
    expect(image.sha256).toBe((posted.body as { sha256: string }).sha256);
  });
  it('an instance that does not allow the type sniffed by another refuses the upload as it catches up', async () => {
    const harness = await harnessFor(driver, { IMAGE_VALIDATION: 'structure' });
    const first = await serveTus(harness);
    const other = await anotherInstance(harness, { ...harness.config, allowedTypes: ['image/png'] });
    const photo = await photoWithExif(600, 400);
    const created = await first.call('POST', '/v1/uploads', {
      'Upload-Length': String(photo.length),
    });
    const at = uploadPath(created.headers.location);
    const id = at.split('/').pop() ?? '';
    const half = Math.floor(photo.length / 2);
    expect((await first.call('PATCH', at, patchHeaders(0), photo.subarray(0, half))).status).toBe(204);
    const refused = await other.call('PATCH', at, patchHeaders(half), photo.subarray(half));
    expect(refused.status).toBe(415);
    expect((await other.call('HEAD', at)).status).toBe(410);
    expect(await stagedPieceCount(harness, id)).toBe(0);
  });
  it('counts every PATCH toward the bound on pieces, also those inside a metadata segment that put nothing out', async () => {
    const harness = await harnessFor(driver, { IMAGE_VALIDATION: 'structure' });
    const server = await serveTus(harness);
    const photo = await photoWithExif(600, 400);
    const exifEnd = 4 + photo.readUInt16BE(4);
    const cut = Math.floor((sniffSampleBytes + exifEnd) / 2);
    const created = await server.call('POST', '/v1/uploads', {
      'Upload-Length': String(photo.length),
    });
    const at = uploadPath(created.headers.location);
    const id = at.split('/').pop() ?? '';
    expect((await server.call('PATCH', at, patchHeaders(0), photo.subarray(0, cut))).status).toBe(204);
    for (let offset = cut; offset < cut + 3; offset += 1) {
      const answer = await server.call('PATCH', at, patchHeaders(offset), photo.subarray(offset, offset + 1));
      expect(answer.status).toBe(204);
    }
    const { record, version } = (await harness.staging.tus.records.read(id))!;
    const held = record as UploadRecord;
    expect(held.pieces.length).toBe(1);
    expect(held.patches).toBe(4);
    // The one piece and the last tail piece: each PATCH's tail replaced the one before.
    expect(await stagedPieceCount(harness, id)).toBe(2);
    // As after 1000 one-byte PATCHes (each a rewrite of a record holding the segment so far).
    await harness.staging.tus.records.replace(id, { ...held, patches: 1000 }, version);
    const refused = await server.call('PATCH', at, patchHeaders(cut + 3), photo.subarray(cut + 3, cut + 4));
    expect(refused.status).toBe(400);
    expect((refused.body as { error: { code: string } }).error.code).toBe('too_many_upload_pieces');
  });
});
