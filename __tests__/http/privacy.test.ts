import { describe, expect, it } from '@jest/globals';
import { exiftool, factsBySharp, identifyingTag, pixels } from '../support/image-facts.js';
import {
  drivers,
  fixture,
  jsonBody,
  multipartFile,
  rawBody,
  sha256,
  type BuiltBody,
} from '../support/requests.js';
import { send, useHarnesses, type Harness } from './harness.js';

/**
 * A phone photo is published without where it was taken, with what, or by whom: whichever
 * door it comes through, held or streamed, on both drivers. What displays it stays (the
 * orientation, the ICC profile), and so does every pixel. The stripper's own cases are in
 * __tests__/images/formats/strip.test.ts; these prove the upload path applies it.
 */

const harnessFor = useHarnesses();

const phones: [string, string, string][] = [
  ['phone-o1.jpg', 'image/jpeg', 'jpg'],
  ['phone-o3.jpg', 'image/jpeg', 'jpg'],
  ['phone-o6.jpg', 'image/jpeg', 'jpg'],
  ['phone-o8.jpg', 'image/jpeg', 'jpg'],
  ['phone.png', 'image/png', 'png'],
  ['phone.webp', 'image/webp', 'webp'],
  ['phone.gif', 'image/gif', 'gif'],
  ['phone.avif', 'image/avif', 'avif'],
];

const doors: Record<string, (bytes: Buffer) => BuiltBody> = {
  json: (bytes) => ({ contentType: 'application/json', body: Buffer.from(jsonBody(bytes)) }),
  multipart: (bytes) => multipartFile(bytes, 'image/jpeg', 'IMG_0001.JPG'),
  raw: (bytes) => rawBody(bytes, 'application/octet-stream'),
};

async function upload(harness: Harness, built: BuiltBody): Promise<Record<string, unknown>> {
  const response = await send(harness, '/v1/images', {
    contentType: built.contentType,
    body: built.body,
  });
  expect(response.status).toBe(201);
  return response.body as Record<string, unknown>;
}

/** The identifying tags exiftool reads (the ICC profile's own description is not one). */
function identifying(tags: Record<string, unknown>): string[] {
  return Object.keys(tags).filter(
    (key) => identifyingTag.test(key) && !key.startsWith('ICC_Profile:'),
  );
}

describe.each(drivers)('metadata stripped on the %s driver', (driver) => {
  it.each(phones)(
    '%s: no location or personal tag, same orientation and pixels',
    async (name, _, extension) => {
      const harness = await harnessFor(driver);
      const sent = fixture(name);
      const before = await exiftool(sent, extension);
      expect(identifying(before).length).toBeGreaterThan(3);

      const answer = await upload(harness, doors.raw!(sent));
      const stored = await harness.storedBytes(String(answer.name));
      const after = await exiftool(stored, extension);
      expect(identifying(after)).toEqual([]);
      // An orientation of 1 is the default: it is not written back.
      expect(after['EXIF:Orientation'] ?? 1).toBe(before['EXIF:Orientation'] ?? 1);
      expect(await pixels(stored)).toEqual(await pixels(sent));
      // The answer describes what is stored, and how it displays.
      expect(answer).toMatchObject({ bytes: stored.length, sha256: sha256(stored) });
      const facts = await factsBySharp(sent);
      expect(answer).toMatchObject({ width: facts.width, height: facts.height });
    },
  );

  it.each(Object.entries(doors))(
    'strips a streamed phone photo sent by %s, and recognises its idempotent replay',
    async (door, build) => {
      const harness = await harnessFor(driver, { STREAMING_THRESHOLD_BYTES: '0' });
      const sent = fixture('phone-o6.jpg');
      const headers = { 'Idempotency-Key': `privacy-${driver}-${door}` };
      const built = build(sent);
      const first = await send(harness, '/v1/images', { ...built, headers });
      const again = await send(harness, '/v1/images', { ...built, headers });
      expect(first.status).toBe(201);
      expect(again.status).toBe(201);
      expect(again.body).toEqual(first.body);
      const answer = first.body as Record<string, unknown>;
      const stored = await harness.storedBytes(String(answer.name));
      expect(identifying(await exiftool(stored, 'jpg'))).toEqual([]);
      expect(await harness.storedNames()).toEqual([answer.name]);
    },
  );

  it('publishes variants without a tag that locates or names anyone', async () => {
    const harness = await harnessFor(driver, {
      IMAGE_VARIANTS: 'thumbnail:32x32:cover,small:40',
      IMAGE_VARIANTS_EAGER: 'true',
    });
    const answer = await upload(harness, doors.multipart!(fixture('phone-o6.jpg')));
    const variants = answer.variants as Record<string, { url: string }>;
    expect(Object.keys(variants).sort()).toEqual(['small', 'thumbnail']);
    for (const { url } of Object.values(variants)) {
      const name = new URL(url).pathname.split('/').pop()!;
      const tags = await exiftool(await harness.storedBytes(name), 'webp');
      expect(identifying(tags)).toEqual([]);
      // Rotated upright when made: no orientation is left to apply.
      expect(tags['EXIF:Orientation']).toBeUndefined();
    }
  });

  it('publishes renditions without any metadata at all', async () => {
    const harness = await harnessFor(driver);
    const answer = await upload(harness, doors.raw!(fixture('phone-o6.jpg')));
    const url = new URL(`/v1/images/${String(answer.id)}/render?w=40&format=jpeg`, 'http://x');
    const response = await send(harness, `${url.pathname}${url.search}`, { method: 'GET' });
    expect(response.status).toBe(200);
    const [name] = (await harness.storedNames()).filter((stored) => stored.includes('.r-'));
    const tags = await exiftool(await harness.storedBytes(name!), 'jpg');
    expect(identifying(tags)).toEqual([]);
    expect(Object.keys(tags).filter((tag) => /^(EXIF|XMP|ICC_Profile|IPTC):/.test(tag))).toEqual(
      [],
    );
  });

  it('keeps every tag with IMAGE_METADATA=keep', async () => {
    const harness = await harnessFor(driver, { IMAGE_METADATA: 'keep' });
    const sent = fixture('phone-o6.jpg');
    const answer = await upload(harness, doors.json!(sent));
    expect((await harness.storedBytes(String(answer.name))).equals(sent)).toBe(true);
    expect(answer.sha256).toBe(sha256(sent));
  });
});
