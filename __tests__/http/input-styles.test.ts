import { describe, expect, it } from '@jest/globals';
import { factsBySharp, storedFormOf } from '../support/image-facts.js';
import {
  drivers,
  fixture,
  jsonBody,
  multipartFile,
  rawBody,
  sha256,
  type BuiltBody,
} from '../support/requests.js';
import { expectErrorResponse } from './expect-error.js';
import { send, useHarnesses, type Harness, type SentResponse } from './harness.js';

const harnessFor = useHarnesses();

/** The same image sent each way the service takes it, each labelled wrongly on purpose. */
const styles: Record<string, (bytes: Buffer) => BuiltBody> = {
  'JSON data URI': (bytes) => ({
    contentType: 'application/json',
    body: Buffer.from(jsonBody(bytes, 'image/png')),
  }),
  'multipart form': (bytes) => multipartFile(bytes, 'image/png', 'holiday.png'),
  'raw body': (bytes) => rawBody(bytes, 'image/png'),
};

function post(harness: Harness, built: BuiltBody, chunked = false): Promise<SentResponse> {
  return send(harness, '/v1/images', { contentType: built.contentType, body: built.body, chunked });
}

type Answer = Record<string, unknown>;

describe.each(drivers)('every input style on the %s driver', (driver) => {
  it('stores the same photo by JSON, multipart and raw body, with the same facts', async () => {
    const harness = await harnessFor(driver);
    const photo = fixture('photo.jpg');
    // Stored 64 x 48 with EXIF orientation 6: displayed 48 x 64.
    expect(await factsBySharp(photo)).toMatchObject({ width: 48, height: 64, orientation: 6 });
    // Stored without its GPS and camera details: the stripped bytes, the same for every door.
    const stored = await storedFormOf(photo);
    expect(stored.length).toBeLessThan(photo.length);
    const answers: Answer[] = [];
    for (const build of Object.values(styles)) {
      const response = await post(harness, build(photo));
      expect(response.status).toBe(201);
      answers.push(response.body as Answer);
    }
    for (const answer of answers) {
      expect(answer).toMatchObject({
        contentType: 'image/jpeg',
        extension: 'jpg',
        bytes: stored.length,
        sha256: sha256(stored),
        width: 48,
        height: 64,
      });
      expect((await harness.storedBytes(String(answer.name))).equals(stored)).toBe(true);
    }
    expect(new Set(answers.map((answer) => answer.id)).size).toBe(3);

    // Looked up again: the same JSON as the 201, less the uploader's secret.
    for (const answer of answers) {
      const { deleteToken, ...description } = answer;
      const found = await send(harness, `/v1/images/${String(answer.id)}`, { method: 'GET' });
      expect(found.status).toBe(200);
      expect(found.body).toEqual(description);
      const deleted = await send(harness, `/v1/images/${String(answer.id)}`, {
        method: 'DELETE',
        headers: { 'Delete-Token': String(deleteToken) },
      });
      expect(deleted.status).toBe(204);
      const gone = await send(harness, `/v1/images/${String(answer.id)}`, { method: 'GET' });
      expectErrorResponse(gone, 'not_found');
    }
    await harness.expectNothingStored();
  });

  it.each(Object.entries(styles))(
    'streams a %s past the streaming threshold, sent chunked',
    async (_, build) => {
      const harness = await harnessFor(driver, { STREAMING_THRESHOLD_BYTES: String(64 * 1024) });
      const large = fixture('large.jpg');
      const response = await post(harness, build(large), true);
      expect(response.status).toBe(201);
      expect(response.body).toMatchObject({
        bytes: large.length,
        sha256: sha256(large),
        width: 1600,
        height: 1200,
      });
      const name = String((response.body as Answer).name);
      expect((await harness.storedBytes(name)).equals(large)).toBe(true);
      expect(await harness.leftovers()).toEqual([]);
    },
  );

  it.each(Object.entries(styles))(
    'refuses an SVG sent as a %s labelled image/png, storing nothing',
    async (_, build) => {
      const harness = await harnessFor(driver);
      const response = await post(harness, build(fixture('script.svg')));
      expectErrorResponse(response, 'unsupported_image_type');
      await harness.expectNothingStored();
    },
  );

  it.each(Object.entries(styles))(
    'refuses a polyglot PNG sent as a %s, storing nothing',
    async (_, build) => {
      const harness = await harnessFor(driver);
      const response = await post(harness, build(fixture('polyglot.png')));
      expectErrorResponse(response, 'undecodable_image');
      await harness.expectNothingStored();
    },
  );
});

describe('raw bodies', () => {
  it.each(['image/jpeg', 'image/png', 'application/octet-stream', 'IMAGE/X-Anything'])(
    'takes the bytes whatever the label: %s',
    async (label) => {
      const harness = await harnessFor('local');
      const photo = fixture('photo.png');
      const response = await post(harness, rawBody(photo, label));
      expect(response.status).toBe(201);
      expect(response.body).toMatchObject({ contentType: 'image/png', sha256: sha256(photo) });
    },
  );

  it('refuses an empty body', async () => {
    const harness = await harnessFor('local');
    const response = await post(harness, rawBody(Buffer.alloc(0), 'image/jpeg'));
    expectErrorResponse(response, 'empty_image');
    await harness.expectNothingStored();
  });

  it('refuses an image over MAX_IMAGE_BYTES from its declared length and when chunked', async () => {
    const harness = await harnessFor('local', { MAX_IMAGE_BYTES: String(100 * 1024) });
    const large = rawBody(fixture('large.jpg'), 'image/jpeg');
    expectErrorResponse(await post(harness, large), 'payload_too_large');
    expectErrorResponse(await post(harness, large, true), 'payload_too_large');
    await harness.expectNothingStored();
  });

  it.each(['text/plain', 'application/x-www-form-urlencoded', 'application/xml'])(
    'refuses a body of type %s',
    async (type) => {
      const harness = await harnessFor('local');
      const response = await post(harness, rawBody(fixture('photo.png'), type));
      expectErrorResponse(response, 'unsupported_media_type');
      await harness.expectNothingStored();
    },
  );

  it('refuses a compressed raw body', async () => {
    const harness = await harnessFor('local');
    const response = await send(harness, '/v1/images', {
      contentType: 'image/png',
      body: fixture('photo.png'),
      headers: { 'Content-Encoding': 'gzip' },
    });
    expectErrorResponse(response, 'unsupported_media_type');
    await harness.expectNothingStored();
  });
});
