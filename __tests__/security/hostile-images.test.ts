import { afterEach, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { withBrokenPixelData } from '../support/image-facts.js';
import request from 'supertest';
import {
  drivers,
  expectRefused,
  fixture,
  jsonBody,
  makeApp,
  type AppUnderTest,
  type Env,
} from './helpers.js';

/**
 * The image must be real: each hostile file is refused with its status and code, on both
 * drivers, in both validation modes, whether the image is held in memory or streamed to the
 * store (STREAMING_THRESHOLD_BYTES=0 streams every image), and nothing is left stored.
 */

const refused: [string, Buffer, string, number, string][] = [
  ['an SVG with a script', fixture('script.svg'), 'image/svg+xml', 415, 'unsupported_image_type'],
  ['an HTML page', fixture('page.html'), 'image/png', 415, 'unsupported_image_type'],
  ['a Windows executable', fixture('program.exe'), 'image/png', 415, 'unsupported_image_type'],
  ['plain text', fixture('text.txt'), 'image/png', 415, 'unsupported_image_type'],
  ['a PNG+HTML polyglot', fixture('polyglot.png'), 'image/png', 422, 'undecodable_image'],
  ['a truncated PNG', fixture('truncated.png'), 'image/png', 422, 'undecodable_image'],
  ['a pixel-flood PNG', fixture('pixel-flood.png'), 'image/png', 422, 'too_many_pixels'],
  // "GIF89a=1;" reads as a 12605 x 12091 screen: refused from its header, whether the metadata
  // is stripped or kept (one walk checks and strips, and the header is the first fault in it).
  [
    'a GIF with script after the header',
    fixture('script.gif'),
    'image/gif',
    422,
    'too_many_pixels',
  ],
  [
    'a JPEG with a script appended after EOI',
    Buffer.concat([fixture('large.jpg'), Buffer.from('<script>alert(1)</script>')]),
    'image/jpeg',
    422,
    'undecodable_image',
  ],
];

/** A real PNG of noise, far larger than the sniffing sample, so that it is streamed. */
const noisePng = await sharp(randomBytes(256 * 256 * 3), {
  raw: { width: 256, height: 256, channels: 3 },
})
  .png()
  .toBuffer();
const largeJpeg = fixture('large.jpg');
const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** Hostile images large enough to be streamed to the store as they arrive. */
const streamedHostile: [string, Buffer, string, string][] = [
  [
    'a PNG+HTML polyglot',
    Buffer.concat([noisePng, fixture('page.html')]),
    'image/png',
    'undecodable_image',
  ],
  ['a truncated PNG', noisePng.subarray(0, noisePng.length >> 1), 'image/png', 'undecodable_image'],
  [
    'a truncated JPEG',
    largeJpeg.subarray(0, largeJpeg.length - 1000),
    'image/jpeg',
    'undecodable_image',
  ],
  [
    'a JPEG with a script appended after EOI',
    Buffer.concat([largeJpeg, Buffer.from('<script>alert(1)</script>')]),
    'image/jpeg',
    'undecodable_image',
  ],
];

/** Above a 64 KiB threshold the first 64 KiB are held, then spooled with the rest. */
const spooledHostile: [string, Buffer, string, string][] = [
  ...streamedHostile,
  ['a pixel flood', fixture('pixel-flood.png'), 'image/png', 'too_many_pixels'],
  [
    'pixel data that only a decode catches',
    withBrokenPixelData(noisePng),
    'image/png',
    'undecodable_image',
  ],
];

const streamedConfigurations: [string, Env, [string, Buffer, string, string][]][] = [
  [
    'IMAGE_VALIDATION=decode',
    { IMAGE_VALIDATION: 'decode', STREAMING_THRESHOLD_BYTES: '0' },
    streamedHostile,
  ],
  [
    'IMAGE_VALIDATION=structure',
    { IMAGE_VALIDATION: 'structure', STREAMING_THRESHOLD_BYTES: '0' },
    streamedHostile,
  ],
  [
    'IMAGE_VALIDATION=decode through a spool file, STREAMING_THRESHOLD_BYTES=65536',
    { IMAGE_VALIDATION: 'decode', STREAMING_THRESHOLD_BYTES: '65536' },
    spooledHostile,
  ],
];

const storageModes: [string, Env][] = [
  ['in memory', {}],
  ['streamed', { STREAMING_THRESHOLD_BYTES: '0' }],
];

describe.each(drivers)('hostile images on the %s driver', (driver) => {
  let subject: AppUnderTest | undefined;
  afterEach(async () => {
    await subject?.cleanup();
    subject = undefined;
  });

  describe.each(['decode', 'structure'])('IMAGE_VALIDATION=%s', (mode) => {
    describe.each(storageModes)('%s', (_label, storageEnv) => {
      it.each(refused)('refuses %s', async (_name, bytes, type, status, code) => {
        subject = await makeApp(driver, { IMAGE_VALIDATION: mode, ...storageEnv });
        const response = await request(subject.app.callback())
          .post('/v1/images')
          .set('Content-Type', 'application/json')
          .send(jsonBody(bytes, type));
        await expectRefused(response, status, code, subject);
      });

      it('refuses the script GIF as undecodable once its declared size is allowed', async () => {
        subject = await makeApp(driver, {
          IMAGE_VALIDATION: mode,
          MAX_IMAGE_PIXELS: String(2 ** 32),
          ...storageEnv,
        });
        const response = await request(subject.app.callback())
          .post('/v1/images')
          .set('Content-Type', 'application/json')
          .send(jsonBody(fixture('script.gif'), 'image/gif'));
        await expectRefused(response, 422, 'undecodable_image', subject);
      });

      it('still stores a real image', async () => {
        subject = await makeApp(driver, { IMAGE_VALIDATION: mode, ...storageEnv });
        const response = await request(subject.app.callback())
          .post('/v1/images')
          .set('Content-Type', 'application/json')
          .send(jsonBody(fixture('large.jpg'), 'image/jpeg'));
        expect(response.status).toBe(201);
        expect(await subject.stored()).toEqual([(response.body as { name: string }).name]);
      });
    });
  });

  describe.each(streamedConfigurations)('streamed to the store, %s', (_label, env, cases) => {
    it.each(cases)('refuses %s and leaves nothing published', async (_name, bytes, type, code) => {
      subject = await makeApp(driver, env);
      const response = await request(subject.app.callback())
        .post('/v1/images')
        .set('Content-Type', 'application/json')
        .send(jsonBody(bytes, type));
      // No object, no temp file, and (decode mode) no spool file: stored() lists them all.
      await expectRefused(response, 422, code, subject);
      // The store did receive the stream: the refusal came during the upload, not before it.
      expect(subject.puts).toEqual(['stream']);
    });
  });

  it.each([
    ['in memory', fixture('photo.png'), {}],
    ['streamed', noisePng, { STREAMING_THRESHOLD_BYTES: '0' }],
  ] as const)(
    'decode mode refuses pixel data that does not decode, even with valid CRCs (%s)',
    async (_label, png, storageEnv) => {
      subject = await makeApp(driver, { IMAGE_VALIDATION: 'decode', ...storageEnv });
      const response = await request(subject.app.callback())
        .post('/v1/images')
        .set('Content-Type', 'application/json')
        .send(jsonBody(withBrokenPixelData(png)));
      await expectRefused(response, 422, 'undecodable_image', subject);
    },
  );

  it.each(['0', '65536'])(
    'streams a large real PNG through decode validation and stores it intact (threshold %s)',
    async (threshold) => {
      subject = await makeApp(driver, { STREAMING_THRESHOLD_BYTES: threshold });
      const response = await request(subject.app.callback())
        .post('/v1/images')
        .set('Content-Type', 'application/json')
        .send(jsonBody(noisePng));
      expect(response.status).toBe(201);
      expect(subject.puts).toEqual(['stream']);
      expect(response.body).toMatchObject({ bytes: noisePng.length, sha256: sha256(noisePng) });
      // The object and nothing else: its spool file is gone.
      expect(await subject.stored()).toEqual([(response.body as { name: string }).name]);
    },
  );

  it('structure mode does not decode pixels: the same file passes its container walk', async () => {
    subject = await makeApp(driver, { IMAGE_VALIDATION: 'structure' });
    const response = await request(subject.app.callback())
      .post('/v1/images')
      .set('Content-Type', 'application/json')
      .send(jsonBody(withBrokenPixelData(fixture('photo.png'))));
    expect(response.status).toBe(201);
  });

  it('refuses an image over MAX_IMAGE_PIXELS from its header', async () => {
    // photo.png is 64 x 48 = 3072 pixels.
    subject = await makeApp(driver, { MAX_IMAGE_PIXELS: '3071' });
    const response = await request(subject.app.callback())
      .post('/v1/images')
      .set('Content-Type', 'application/json')
      .send(jsonBody(fixture('photo.png')));
    await expectRefused(response, 422, 'too_many_pixels', subject);
  });
});
