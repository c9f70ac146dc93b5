import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { withBrokenPixelData } from '../support/image-facts.js';
import request from 'supertest';
import { thumbHashToApproximateAspectRatio } from 'thumbhash';
import { immutableCacheControl } from '../../src/storage/object-store.js';
import { expectErrorResponse } from './expect-error.js';
import { useEmulatorProxies, useHarnesses, type Harness } from './harness.js';
import { drivers, fixture, jsonBody, rawBody } from '../support/requests.js';

const harnessFor = useHarnesses();
const emulatorProxy = useEmulatorProxies();

const variantsEnv = {
  IMAGE_VARIANTS: 'thumbnail:32x32:cover,small:40',
  IMAGE_VARIANTS_EAGER: 'true',
};

interface DescribedVariant {
  url: string;
  width: number;
  height: number;
  frames?: number;
  bytes: number;
  contentType: string;
}

interface Described {
  id: string;
  name: string;
  width: number;
  height: number;
  deleteToken?: string;
  variants?: Record<string, DescribedVariant>;
  placeholder?: { thumbhash: string; blurhash: string; color: string };
}

function post(harness: Harness, image: Buffer, type: string): request.Test {
  return request(harness.callback)
    .post('/v1/images')
    .set('Content-Type', 'application/json')
    .send(jsonBody(image, type));
}

/** The bytes behind a variant's URL: through the app's file route, or from the emulator. */
async function served(harness: Harness, url: string): Promise<Buffer> {
  if (harness.driver === 'local') {
    const response = await request(harness.callback).get(new URL(url).pathname).buffer(true);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('image/webp');
    expect(response.headers['cache-control']).toBe(immutableCacheControl);
    return response.body as Buffer;
  }
  const response = await fetch(url);
  expect(response.status).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

/** Checks every listed variant against what its URL serves and what the store holds. */
async function expectVariants(
  harness: Harness,
  image: Described,
  displayed: { width: number; height: number },
): Promise<void> {
  const variants = image.variants!;
  expect(Object.keys(variants)).toEqual(['thumbnail', 'small']);
  for (const [name, variant] of Object.entries(variants)) {
    const objectName = `${image.id}.${name}.webp`;
    expect(new URL(variant.url).pathname).toMatch(
      new RegExp(`${objectName.replace(/\./g, '\\.')}$`),
    );
    const bytes = await served(harness, variant.url);
    expect(bytes.equals(await harness.storedBytes(objectName))).toBe(true);
    const metadata = await sharp(bytes).metadata();
    expect(metadata.format).toBe('webp');
    expect(metadata.orientation).toBeUndefined();
    expect(metadata.exif).toBeUndefined();
    expect(variant).toEqual({
      url: variant.url,
      width: metadata.width,
      height: metadata.height,
      bytes: bytes.length,
      contentType: 'image/webp',
    });
    if (harness.driver === 'gcs') {
      const stored = await harness.storedMetadata(objectName);
      expect(stored.cacheControl).toBe(immutableCacheControl);
      expect(stored.metadata).toEqual({ variantOf: image.id, variant: name });
    }
  }
  expect(variants.thumbnail).toMatchObject({ width: 32, height: 32 });
  const small = variants.small!;
  expect(Math.max(small.width, small.height)).toBe(40);
  // Upright: the displayed shape, not the stored one.
  expect(small.width > small.height).toBe(displayed.width > displayed.height);
  const placeholder = image.placeholder!;
  expect(placeholder.blurhash).toMatch(/^[0-9A-Za-z#$%*+,.:;=?@[\]^_{|}~-]{20,}$/);
  expect(placeholder.color).toMatch(/^#[0-9a-f]{6}$/);
  expectAspectRatio(placeholder.thumbhash, displayed.width / displayed.height);
}

/** ThumbHash keeps the ratio in a few bits: within 10 %. */
function expectAspectRatio(thumbhash: string, ratio: number): void {
  const approximate = thumbHashToApproximateAspectRatio(Buffer.from(thumbhash, 'base64'));
  expect(Math.abs(approximate - ratio) / ratio).toBeLessThan(0.1);
}

const brokenPng = withBrokenPixelData(
  await sharp(randomBytes(256 * 256 * 3), { raw: { width: 256, height: 256, channels: 3 } })
    .png()
    .toBuffer(),
);

describe.each(drivers)('variants and placeholders with the %s driver', (driver) => {
  it.each([
    ['photo.jpg', { width: 48, height: 64 }],
    ['large.jpg', { width: 1600, height: 1200 }],
  ])('%s: made, stored, described, read back and deleted', async (file, displayed) => {
    const harness = await harnessFor(driver, variantsEnv);
    const response = await post(harness, fixture(file), 'image/jpeg');
    expect(response.status).toBe(201);
    const image = response.body as Described;
    expect(image).toMatchObject(displayed);
    await expectVariants(harness, image, displayed);
    expect(await harness.storedNames()).toEqual(
      [image.name, `${image.id}.small.webp`, `${image.id}.thumbnail.webp`].sort(),
    );
    expect(await harness.leftovers()).toEqual([]);

    const read = await request(harness.callback).get(`/v1/images/${image.id}`);
    expect(read.status).toBe(200);
    const { deleteToken, ...described } = image;
    expect(read.body).toEqual(described);

    const deleted = await request(harness.callback)
      .delete(`/v1/images/${image.id}`)
      .set('Delete-Token', deleteToken!);
    expect(deleted.status).toBe(204);
    await harness.expectNothingStored();
  });

  it('makes the same variants of a streamed image, from a spool it then removes', async () => {
    for (const validation of ['decode', 'structure']) {
      const harness = await harnessFor(driver, {
        ...variantsEnv,
        STREAMING_THRESHOLD_BYTES: '0',
        IMAGE_VALIDATION: validation,
      });
      const response = await post(harness, fixture('photo.jpg'), 'image/jpeg');
      expect(response.status).toBe(201);
      const image = response.body as Described;
      await expectVariants(harness, image, { width: 48, height: 64 });
      expect(await harness.storedNames()).toHaveLength(3);
      expect(await harness.leftovers()).toEqual([]);
    }
  });

  it('keeps the frames of an animated GIF in its WebP variants; the placeholder is still', async () => {
    const harness = await harnessFor(driver, variantsEnv);
    const response = await post(harness, fixture('anim.gif'), 'image/gif');
    expect(response.status).toBe(201);
    const image = response.body as Described;
    for (const [name, variant] of Object.entries(image.variants!)) {
      const bytes = await harness.storedBytes(`${image.id}.${name}.webp`);
      const metadata = await sharp(bytes, { pages: -1 }).metadata();
      expect(metadata.format).toBe('webp');
      expect(metadata.pages).toBe(3);
      expect(variant.frames).toBe(3);
      expect(metadata.pageHeight).toBe(variant.height);
    }
    expect(image.variants!.thumbnail).toMatchObject({ width: 32, height: 32 });
    expectAspectRatio(image.placeholder!.thumbhash, 64 / 48);
  });

  it('answers a replay of an idempotent upload with the first one’s variants', async () => {
    const harness = await harnessFor(driver, variantsEnv);
    const send = (): request.Test =>
      post(harness, fixture('photo.jpg'), 'image/jpeg').set('Idempotency-Key', 'variants-1');
    const first = await send();
    const again = await send();
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(await harness.storedNames()).toHaveLength(3);
  });

  it.each([
    ['held, decode', {}],
    ['held, structure', { IMAGE_VALIDATION: 'structure' }],
    ['streamed, decode', { STREAMING_THRESHOLD_BYTES: '0' }],
    ['streamed, structure', { STREAMING_THRESHOLD_BYTES: '0', IMAGE_VALIDATION: 'structure' }],
  ])('refuses pixel data that does not decode (%s), storing nothing', async (_, env) => {
    const harness = await harnessFor(driver, { ...variantsEnv, ...env });
    const raw = rawBody(brokenPng, 'image/png');
    const response = await request(harness.callback)
      .post('/v1/images')
      .set('Content-Type', raw.contentType)
      .send(raw.body);
    expectErrorResponse(response, 'undecodable_image');
    await harness.expectNothingStored();
  });
});

// Needs the emulator and toxiproxy: skipped by `npm run test:unit`.
(drivers.includes('gcs') ? describe : describe.skip)('all or nothing under a store fault', () => {
  it.each([
    ['held', {}],
    // The original's resumable session is open, its last chunk not sent, while variants go in.
    ['streamed', { STREAMING_THRESHOLD_BYTES: '0' }],
  ])('%s: the store goes away after the first variant; nothing stays', async (_, env) => {
    const proxy = await emulatorProxy();
    const harness = await harnessFor('gcs', {
      ...variantsEnv,
      ...env,
      GCS_API_ENDPOINT: proxy.endpoint,
      STORE_TIMEOUT_MS: '2000',
      STORE_ATTEMPT_TIMEOUT_MS: '1000',
    });
    // Every request waits on its way to the emulator, so the second variant's write is still
    // in flight when the proxy is cut, right after the first one's has been confirmed.
    await proxy.addToxic('slow', {
      type: 'latency',
      stream: 'upstream',
      attributes: { latency: 300 },
    });
    const events: string[] = [];
    const recovered: Promise<void>[] = [];
    harness.store.observe?.({
      called: (operation, outcome) => {
        events.push(`${operation} ${outcome}`);
        if (operation === 'put' && outcome === 'ok' && events.length === 1) {
          recovered.push(proxy.setEnabled(false));
        }
        if (operation === 'put' && outcome === 'error') {
          // The store is back for the clean-up: it is the upload's own job, not luck's.
          recovered.push(proxy.setEnabled(true).then(() => proxy.removeAllToxics()));
        }
      },
    });
    const response = await post(harness, fixture('photo.jpg'), 'image/jpeg');
    expectErrorResponse(response, 'storage_unavailable');
    expect(events.slice(0, 2)).toEqual(['put ok', 'put error']);
    await Promise.all(recovered);
    await harness.store.settle?.(5_000);
    await harness.expectNothingStored();
  });
});
