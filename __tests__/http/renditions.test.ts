import { describe, expect, it } from '@jest/globals';
import sharp from 'sharp';
import request from 'supertest';
import { renditionPath, signRendition } from '../../src/renditions/rendition-signing.js';
import { StorageError, immutableCacheControl } from '../../src/storage/object-store.js';
import { createApp } from '../../src/http/app.js';
import { createMetrics } from '../../src/metrics.js';
import { expectErrorResponse } from './expect-error.js';
import { silentLogger, useHarnesses, type Harness } from './harness.js';
import {
  dataUri,
  drivers,
  fixture,
  jsonBody,
  multipartBody,
  type BuiltBody,
} from '../support/requests.js';

const harnessFor = useHarnesses();

interface Described {
  id: string;
  renditions?: {
    srcset: string;
    widths: { width: number; url: string }[];
    presets?: Record<string, string>;
  };
}
const key = 'a-rendition-signing-key-of-32-bytes-at-least';
const oldKey = 'the-previous-signing-key-still-accepted-for-now';

async function upload(
  harness: Harness,
  name = 'large.jpg',
): Promise<{ id: string; name: string; deleteToken: string }> {
  const response = await request(harness.callback)
    .post('/v1/images')
    .set('Content-Type', 'application/json')
    .send(jsonBody(fixture(name), 'image/jpeg'));
  expect(response.status).toBe(201);
  return response.body as { id: string; name: string; deleteToken: string };
}

/** A signed URL (path and query) for these parameters, in the order given. */
function signedUrl(id: string, params: Record<string, string>, signingKey = key): string {
  const map = new Map(Object.entries(params));
  const query = new URLSearchParams(Object.entries(params));
  query.set('sig', signRendition(renditionPath(id), map, signingKey));
  return `${renditionPath(id)}?${query.toString()}`;
}

function get(harness: Harness, url: string): request.Test {
  return request(harness.callback).get(url).buffer(true);
}

async function renderedCount(
  app: { metrics: ReturnType<typeof createMetrics> },
  outcome: string,
): Promise<number> {
  const metric = await app.metrics.renditions.get();
  return metric.values.find((value) => value.labels.outcome === outcome)?.value ?? 0;
}

/** superagent would send a Buffer labelled application/json as the JSON of a Buffer. */
const asSent = (contentType: string, body: Buffer): Buffer | string =>
  contentType === 'application/json' ? body.toString() : body;

const renditionNames = (names: string[]): string[] =>
  names.filter((name) => /\.r-[0-9a-f]{24}\./.test(name));

describe.each(drivers)('renditions on the %s driver', (driver) => {
  const signedEnv = {
    RENDER_SIGNING_KEYS: `${key},${oldKey}`,
    IMAGE_VARIANTS: 'thumbnail:160x160:cover',
  };

  /** A harness whose app counts renders in a metrics registry the test can read. */
  async function counted(env: Record<string, string> = signedEnv) {
    const harness = await harnessFor(driver, env);
    const metrics = createMetrics({ processMetrics: false });
    const app = createApp(harness.config, { store: harness.store, logger: silentLogger, metrics });
    return { harness, metrics, callback: app.callback() };
  }

  it('renders the asked size and format, upright, without metadata, close to a reference resize', async () => {
    const harness = await harnessFor(driver, signedEnv);
    const image = await upload(harness);
    const response = await get(harness, signedUrl(image.id, { w: '400', format: 'webp', q: '90' }));
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('image/webp');
    expect(response.headers['cache-control']).toBe(immutableCacheControl);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['content-security-policy']).toBe("default-src 'none'; sandbox");
    expect(response.headers.vary ?? '').not.toContain('Accept');
    const body = response.body as Buffer;
    const meta = await sharp(body).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 400, 300]);
    expect(meta.exif).toBeUndefined();
    expect(meta.icc).toBeUndefined();
    // Pixels: mean absolute difference from sharp's own resize of the original, per channel.
    const reference = await sharp(fixture('large.jpg')).resize(400).raw().toBuffer();
    const ours = await sharp(body).removeAlpha().raw().toBuffer();
    expect(ours.length).toBe(reference.length);
    let difference = 0;
    for (let index = 0; index < ours.length; index += 1)
      difference += Math.abs(ours[index]! - reference[index]!);
    expect(difference / ours.length).toBeLessThan(4);
    expect(renditionNames(await harness.storedNames())).toHaveLength(1);
  });

  it('applies EXIF orientation and never enlarges', async () => {
    const harness = await harnessFor(driver, signedEnv);
    const image = await upload(harness, 'phone-o6.jpg');
    const response = await get(harness, signedUrl(image.id, { w: '4000', format: 'png' }));
    expect(response.status).toBe(200);
    const meta = await sharp(response.body as Buffer).metadata();
    // Stored as 64 x 48 with orientation 6: displayed 48 x 64, and no larger than that.
    expect([meta.format, meta.width, meta.height, meta.orientation]).toEqual([
      'png',
      48,
      64,
      undefined,
    ]);
    const cover = await get(
      harness,
      signedUrl(image.id, { w: '100', h: '100', fit: 'cover', format: 'jpeg' }),
    );
    const coverMeta = await sharp(cover.body as Buffer).metadata();
    expect([coverMeta.format, coverMeta.width, coverMeta.height]).toEqual(['jpeg', 48, 48]);
  });

  it('answers format=auto from Accept, and says Vary: Accept', async () => {
    const harness = await harnessFor(driver, signedEnv);
    const image = await upload(harness);
    const url = signedUrl(image.id, { w: '64', format: 'auto' });
    const cases = [
      ['image/avif,image/webp,*/*', 'image/avif'],
      ['image/webp,*/*', 'image/webp'],
      ['*/*', 'image/jpeg'],
    ];
    for (const [accept, type] of cases) {
      const response = await get(harness, url).set('Accept', accept!);
      expect([response.status, response.headers['content-type']]).toEqual([200, type]);
      expect(response.headers.vary).toContain('Accept');
    }
    expect(renditionNames(await harness.storedNames())).toHaveLength(3);
  });

  it('renders once: the second request decodes nothing, ETag and 304', async () => {
    const { harness, metrics, callback } = await counted();
    const image = await upload(harness);
    const url = signedUrl(image.id, { w: '300', format: 'webp' });
    const first = await request(callback).get(url).buffer(true);
    const second = await request(callback).get(url).buffer(true);
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(Buffer.compare(first.body as Buffer, second.body as Buffer)).toBe(0);
    expect(second.headers['content-length']).toBe(String((first.body as Buffer).length));
    expect(await renderedCount({ metrics }, 'rendered')).toBe(1);
    expect(await renderedCount({ metrics }, 'stored')).toBe(1);
    const etag = second.headers.etag;
    expect(etag).toBe(first.headers.etag);
    const conditional = await request(callback).get(url).set('If-None-Match', etag!);
    expect(conditional.status).toBe(304);
    expect(conditional.headers.etag).toBe(etag);
    expect(await renderedCount({ metrics }, 'rendered')).toBe(1);
  });

  it('finds the original by its id once: later renders of it stat no other name', async () => {
    const harness = await harnessFor(driver, signedEnv);
    const image = await upload(harness);
    const statted: string[] = [];
    const checked: string[] = [];
    const store = Object.create(harness.store, {
      stat: {
        value: (...args: Parameters<Harness['store']['stat']>) => {
          statted.push(args[0]);
          return harness.store.stat(...args);
        },
      },
      exists: {
        value: (...args: Parameters<Harness['store']['exists']>) => {
          checked.push(args[0]);
          return harness.store.exists(...args);
        },
      },
    }) as Harness['store'];
    const callback = createApp(harness.config, { store, logger: silentLogger }).callback();
    expect((await get({ ...harness, callback }, signedUrl(image.id, { w: '300' }))).status).toBe(
      200,
    );
    // One stat per allowed type, then the original checked once more after the write.
    expect(statted.filter((name) => name !== image.name).length).toBeGreaterThan(0);
    expect(checked).toEqual([image.name]);
    statted.length = 0;
    checked.length = 0;
    for (const w of ['310', '320']) {
      expect((await get({ ...harness, callback }, signedUrl(image.id, { w }))).status).toBe(200);
    }
    // The re-check after each write, and nothing else.
    expect(statted).toEqual([]);
    expect(checked).toEqual([image.name, image.name]);
  });

  it('answers 404 and stores nothing once another instance deleted the image', async () => {
    const harness = await harnessFor(driver, signedEnv);
    const image = await upload(harness);
    // This instance has found the original (and keeps its name) ...
    const here = createApp(harness.config, { store: harness.store, logger: silentLogger });
    expect(
      (await get({ ...harness, callback: here.callback() }, signedUrl(image.id, { w: '300' })))
        .status,
    ).toBe(200);
    // ... and another one deletes it.
    const deleted = await request(harness.callback)
      .delete(`/v1/images/${image.id}`)
      .set('Delete-Token', image.deleteToken);
    expect(deleted.status).toBe(204);
    for (const w of ['310', '300']) {
      expectErrorResponse(
        await get({ ...harness, callback: here.callback() }, signedUrl(image.id, { w })),
        'not_found',
      );
    }
    expect(await harness.storedNames()).toEqual([]);
  });

  it('renders concurrent first requests once', async () => {
    const { harness, metrics, callback } = await counted();
    const image = await upload(harness);
    const url = signedUrl(image.id, { w: '500', h: '200', fit: 'cover', format: 'webp' });
    const responses = await Promise.all(
      Array.from({ length: 6 }, () => request(callback).get(url).buffer(true)),
    );
    expect(responses.map((response) => response.status)).toEqual(Array(6).fill(200));
    expect(await renderedCount({ metrics }, 'rendered')).toBe(1);
    expect(renditionNames(await harness.storedNames())).toHaveLength(1);
  });

  it('checks the signature: tampered, another key, rotated keys, order, a sig for other parameters', async () => {
    const harness = await harnessFor(driver, signedEnv);
    const image = await upload(harness, 'photo.jpg');
    const good = signedUrl(image.id, { w: '32', fit: 'cover', h: '16' });
    expect((await get(harness, good)).status).toBe(200);
    // The same parameters in another order carry the same signature.
    const sig = new URL(good, 'http://x').searchParams.get('sig')!;
    expect(
      (await get(harness, `${renditionPath(image.id)}?h=16&sig=${sig}&w=32&fit=cover`)).status,
    ).toBe(200);
    // The second (older) key is still accepted.
    expect((await get(harness, signedUrl(image.id, { w: '32' }, oldKey))).status).toBe(200);
    const refused = [
      good.replace('w=32', 'w=33'),
      signedUrl(image.id, { w: '32' }, 'some-other-key-that-is-long-enough-too'),
      `${renditionPath(image.id)}?w=31&sig=${sig}`,
      `${renditionPath(image.id)}?w=32`,
      `${renditionPath(image.id)}?w=32&fit=cover&h=16&sig=${sig}x`,
    ];
    for (const url of refused)
      expectErrorResponse(await get(harness, url), 'invalid_render_signature');
    // A preset alone needs no signature.
    expect((await get(harness, `${renditionPath(image.id)}?preset=thumbnail`)).status).toBe(200);
    expectErrorResponse(
      await get(harness, `${renditionPath(image.id)}?preset=thumbnail&w=10`),
      'invalid_render_signature',
    );
  });

  it('refuses hostile parameters with a 400 naming them', async () => {
    const harness = await harnessFor(driver, signedEnv);
    const image = await upload(harness, 'photo.jpg');
    const cases: [Record<string, string> | string, string][] = [
      [{ w: '100000000' }, '"w"'],
      [{ w: '100', dpr: '1000' }, '"dpr"'],
      [{ w: '100', q: '0' }, '"q"'],
      [{ w: '100', fit: 'stretch' }, '"fit"'],
      [{ w: '100', format: 'gif' }, '"format"'],
      [{ w: '8000', h: '8000' }, 'RENDER_MAX_PIXELS'],
      [{ w: '4000', dpr: '4' }, '"dpr"'],
      [{ w: '-1' }, '"w"'],
      [{ w: '1e3' }, '"w"'],
      [{ fit: 'cover' }, '"w"'],
      [{ w: '10', x: '1' }, '"x"'],
      [{ w: '10', preset: 'banner' }, '"preset"'],
      [`w=10&w=20`, '"w"'],
      [`w=10&fit=${'a'.repeat(10_000)}`, '1024 bytes'],
    ];
    for (const [params, named] of cases) {
      const url =
        typeof params === 'string'
          ? `${renditionPath(image.id)}?${params}`
          : signedUrl(image.id, params);
      const response = await get(harness, url);
      expectErrorResponse(response, 'invalid_render_parameter');
      expect((response.body as { error: { message: string } }).error.message).toContain(named);
    }
    expect(renditionNames(await harness.storedNames())).toEqual([]);
  });

  it('answers 404 for an unknown id and for a deleted image, and DELETE removes every rendition', async () => {
    const harness = await harnessFor(driver, signedEnv);
    expectErrorResponse(
      await get(harness, signedUrl('0b6f6c1e-5d0e-4e43-9b64-5c2a8d0f4f4e', { w: '10' })),
      'not_found',
    );
    expectErrorResponse(await get(harness, signedUrl('not-an-id', { w: '10' })), 'not_found');
    const created = await request(harness.callback)
      .post('/v1/images')
      .set('Content-Type', 'application/json')
      .send(jsonBody(fixture('photo.jpg'), 'image/jpeg'));
    const image = created.body as { id: string; deleteToken: string };
    for (const w of ['10', '20', '30'])
      expect((await get(harness, signedUrl(image.id, { w }))).status).toBe(200);
    expect(await harness.storedNames()).toHaveLength(4);
    const deleted = await request(harness.callback)
      .delete(`/v1/images/${image.id}`)
      .set('Delete-Token', image.deleteToken);
    expect(deleted.status).toBe(204);
    expect(await harness.storedNames()).toEqual([]);
    expectErrorResponse(await get(harness, signedUrl(image.id, { w: '10' })), 'not_found');
  });

  it('leaves no rendition behind when the image is deleted while it renders', async () => {
    const harness = await harnessFor(driver, signedEnv);
    const created = await request(harness.callback)
      .post('/v1/images')
      .set('Content-Type', 'application/json')
      .send(jsonBody(fixture('large.jpg'), 'image/jpeg'));
    const image = created.body as { id: string; deleteToken: string };
    // The store holds the rendition's write until the delete has run to its end.
    let releaseWrite!: () => void;
    const writeHeld = new Promise<void>((resolve) => (releaseWrite = resolve));
    let writeStarted!: () => void;
    const writing = new Promise<void>((resolve) => (writeStarted = resolve));
    const store = Object.create(harness.store, {
      put: {
        value: async (...args: Parameters<Harness['store']['put']>) => {
          if (/\.r-/.test(args[0])) {
            writeStarted();
            await writeHeld;
          }
          return harness.store.put(...args);
        },
      },
    }) as Harness['store'];
    const app = createApp(harness.config, { store, logger: silentLogger });
    const render = request(app.callback())
      .get(signedUrl(image.id, { w: '640' }))
      .then((response) => response);
    await writing;
    const deleted = await request(app.callback())
      .delete(`/v1/images/${image.id}`)
      .set('Delete-Token', image.deleteToken);
    expect(deleted.status).toBe(204);
    releaseWrite();
    expectErrorResponse(await render, 'not_found');
    expect(await harness.storedNames()).toEqual([]);
  });

  it('answers 503 and caches nothing when the store fails mid-render', async () => {
    const harness = await harnessFor(driver, signedEnv);
    const image = await upload(harness);
    const store = Object.create(harness.store, {
      put: {
        value: () => Promise.reject(new StorageError('unavailable', 'the bucket is down')),
      },
    }) as Harness['store'];
    const app = createApp(harness.config, { store, logger: silentLogger });
    const url = signedUrl(image.id, { w: '320' });
    const response = await request(app.callback()).get(url);
    expectErrorResponse(response, 'storage_unavailable');
    expect(response.headers['retry-after']).toBe('5');
    expect(renditionNames(await harness.storedNames())).toEqual([]);
    expect(await harness.leftovers()).toEqual([]);
    // The store back: the same URL renders and stores.
    expect((await get(harness, url)).status).toBe(200);
  });

  it('bounds a render of a 100 MP original by the pixel limit', async () => {
    const harness = await harnessFor(driver, { ...signedEnv, MAX_IMAGE_PIXELS: '200000000' });
    const image = await upload(harness);
    // The same original, refused at render time by a lower limit than the upload had.
    const strict = await harnessFor(driver, signedEnv);
    const app = createApp(
      { ...strict.config, security: { ...strict.config.security, maxImagePixels: 1_000_000 } },
      { store: harness.store, logger: silentLogger },
    );
    const response = await request(app.callback()).get(signedUrl(image.id, { w: '100' }));
    expectErrorResponse(response, 'too_many_pixels');
    expect(renditionNames(await harness.storedNames())).toEqual([]);
  });

  it('lists srcset-ready signed URLs and each preset in every image answer', async () => {
    const harness = await harnessFor(driver, { ...signedEnv, RENDER_WIDTHS: '320,640,2000' });
    const created = await request(harness.callback)
      .post('/v1/images')
      .set('Content-Type', 'application/json')
      .send(jsonBody(fixture('large.jpg'), 'image/jpeg'));
    const image = created.body as Described;
    const described = await request(harness.callback).get(`/v1/images/${image.id}`);
    expect((described.body as Described).renditions).toEqual(image.renditions);
    const { widths, srcset, presets } = image.renditions!;
    // Narrower than the image (1600 wide), then the image's own width: never enlarged.
    expect(widths.map((entry) => entry.width)).toEqual([320, 640, 1600]);
    expect(srcset).toBe(widths.map(({ url, width }) => `${url} ${width}w`).join(', '));
    for (const { width, url } of widths) {
      const { pathname, search } = new URL(url);
      const response = await get(harness, `${pathname}${search}`).set('Accept', 'image/webp');
      expect(response.status).toBe(200);
      expect((await sharp(response.body as Buffer).metadata()).width).toBe(width);
    }
    const thumbnail = new URL(presets!.thumbnail!);
    expect(thumbnail.search).toBe('?preset=thumbnail');
    const response = await get(harness, `${thumbnail.pathname}${thumbnail.search}`);
    const meta = await sharp(response.body as Buffer).metadata();
    expect([response.headers['content-type'], meta.width, meta.height]).toEqual([
      'image/webp',
      160,
      160,
    ]);
  });

  it('crops around the focal point an upload gave, and around the one PATCH sets later', async () => {
    const harness = await harnessFor(driver, signedEnv);
    const created = await request(harness.callback)
      .post('/v1/images')
      .set('Content-Type', 'image/jpeg')
      .set('Image-Focus', '0,0.5')
      .send(fixture('large.jpg'));
    expect(created.status).toBe(201);
    const image = created.body as { id: string; deleteToken: string; focus?: unknown };
    expect(image.focus).toEqual({ x: 0, y: 0.5 });
    const url = signedUrl(image.id, {
      w: '300',
      h: '300',
      fit: 'cover',
      gravity: 'focus',
      format: 'png',
    });
    // 1600 x 1200 covers 300 x 300 at 400 x 300: the focus at the left edge keeps x 0..300.
    const scaled = sharp(fixture('large.jpg')).resize(400, 300);
    const meanDifference = async (rendered: Buffer, left: number): Promise<number> => {
      const reference = await scaled
        .clone()
        .extract({ left, top: 0, width: 300, height: 300 })
        .raw()
        .toBuffer();
      const ours = await sharp(rendered).removeAlpha().raw().toBuffer();
      let sum = 0;
      for (let index = 0; index < ours.length; index += 1)
        sum += Math.abs(ours[index]! - reference[index]!);
      return sum / ours.length;
    };
    const left = await get(harness, url);
    expect(left.status).toBe(200);
    expect(await meanDifference(left.body as Buffer, 0)).toBeLessThan(3);

    const patch = (body: unknown, token = image.deleteToken): request.Test =>
      request(harness.callback)
        .patch(`/v1/images/${image.id}`)
        .set('Delete-Token', token)
        .send(body as object);
    expectErrorResponse(await patch({ focus: { x: 1, y: 0.5 } }, 'not-the-token'), 'forbidden');
    expectErrorResponse(await patch({ focus: { x: 2, y: 0.5 } }), 'invalid_focus');
    expectErrorResponse(await patch({ focus: '1,0.5' }), 'invalid_focus');
    const moved = await patch({ focus: { x: 1, y: 0.5 } });
    expect(moved.status).toBe(200);
    expect((moved.body as { focus: unknown }).focus).toEqual({ x: 1, y: 0.5 });
    expect(
      ((await request(harness.callback).get(`/v1/images/${image.id}`)).body as { focus: unknown })
        .focus,
    ).toEqual({ x: 1, y: 0.5 });
    // The crop made around the old point is gone; the same URL now keeps x 100..400.
    expect(renditionNames(await harness.storedNames())).toEqual([]);
    const right = await get(harness, url);
    expect(await meanDifference(right.body as Buffer, 100)).toBeLessThan(3);
    expect(await meanDifference(right.body as Buffer, 0)).toBeGreaterThan(
      await meanDifference(right.body as Buffer, 100),
    );
  });

  it('takes the focal point as a JSON member and as a form field, before or after the file', async () => {
    const harness = await harnessFor(driver, signedEnv);
    const photo = fixture('photo.jpg');
    const json: BuiltBody = {
      contentType: 'application/json',
      body: Buffer.from(
        JSON.stringify({
          focus: { x: 0.25, y: 0.75 },
          data: dataUri(photo, 'image/jpeg'),
        }),
      ),
    };
    const file = { bytes: photo, type: 'image/jpeg', filename: 'photo.jpg' };
    const bodies: [BuiltBody, unknown][] = [
      [json, { x: 0.25, y: 0.75 }],
      [multipartBody({ fields: { focus: '0.1,0.2' }, files: [file] }), { x: 0.1, y: 0.2 }],
      [multipartBody({ files: [file], fieldsAfter: { focus: '1,0' } }), { x: 1, y: 0 }],
    ];
    for (const [{ contentType, body }, focus] of bodies) {
      const created = await request(harness.callback)
        .post('/v1/images')
        .set('Content-Type', contentType)
        .send(asSent(contentType, body));
      expect(created.status).toBe(201);
      const image = created.body as { id: string; focus?: unknown };
      expect(image.focus).toEqual(focus);
      const described = await request(harness.callback).get(`/v1/images/${image.id}`);
      expect((described.body as { focus?: unknown }).focus).toEqual(focus);
    }
  });

  it('refuses a bad focal point at every door with a 400 naming it, storing nothing', async () => {
    const harness = await harnessFor(driver, signedEnv);
    const photo = fixture('photo.jpg');
    const data = dataUri(photo, 'image/jpeg');
    const file = { bytes: photo, type: 'image/jpeg', filename: 'photo.jpg' };
    const cases: [BuiltBody, string, string?][] = [
      [
        {
          contentType: 'application/json',
          body: Buffer.from(JSON.stringify({ data, focus: { x: 2, y: 0 } })),
        },
        'the JSON member "focus"',
      ],
      [
        {
          contentType: 'application/json',
          body: Buffer.from(JSON.stringify({ data, focus: '0.5,0.5' })),
        },
        'the JSON member "focus"',
      ],
      [multipartBody({ files: [file], fieldsAfter: { focus: '1.5,0' } }), 'the form field "focus"'],
      [multipartBody({ fields: { focus: 'a,b' }, files: [file] }), 'the form field "focus"'],
      [{ contentType: 'image/jpeg', body: photo }, 'the Image-Focus header', '0.5'],
      // Given twice: the header and the body's own.
      [multipartBody({ fields: { focus: '0.5,0.5' }, files: [file] }), 'given twice', '0.5,0.5'],
    ];
    for (const [{ contentType, body }, named, header] of cases) {
      const call = request(harness.callback).post('/v1/images').set('Content-Type', contentType);
      if (header !== undefined) call.set('Image-Focus', header);
      const response = await call.send(asSent(contentType, body));
      expectErrorResponse(response, 'invalid_focus');
      expect((response.body as { error: { message: string } }).error.message).toContain(named);
    }
    await harness.expectNothingStored();
  });

  it('refuses an upload whose Image-Focus is not x,y from 0 to 1, storing nothing', async () => {
    const harness = await harnessFor(driver, signedEnv);
    for (const focus of ['0.5', '1.5,0', 'a,b', '0.5;0.5']) {
      const response = await request(harness.callback)
        .post('/v1/images')
        .set('Content-Type', 'image/jpeg')
        .set('Image-Focus', focus)
        .send(fixture('photo.jpg'));
      expectErrorResponse(response, 'invalid_focus');
    }
    await harness.expectNothingStored();
  });
});

describe('unsigned renditions', () => {
  it('are accepted in development when no keys are configured', async () => {
    const harness = await harnessFor('local');
    const image = await upload(harness, 'photo.jpg');
    expect((await get(harness, `${renditionPath(image.id)}?w=20`)).status).toBe(200);
  });
});
