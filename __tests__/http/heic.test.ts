import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import {
  cameraHeics,
  decodedByHeifConvert,
  meanDifference,
  thumbnailOf,
  twoHundredMegapixelHeic,
  withBrokenHevcData,
} from '../support/heic.js';
import { exiftool, identifyingTag } from '../support/image-facts.js';
import {
  drivers,
  fixture,
  jsonBody,
  multipartFile,
  rawBody,
  type Driver,
} from '../support/requests.js';
import { signingClient, newSigningAccount } from '../support/signing.js';
import { send, serve, useCleanups, useHarnesses } from './harness.js';

/**
 * Photos as phones take them. A HEIC from an iPhone goes in by every door (JSON, multipart, raw
 * body, the compatibility routes, tus, direct upload) on both drivers and gives the same
 * answer: its displayed size, and a `display` URL every browser shows (a JPEG made at upload),
 * with neither the original nor the rendition telling where it was taken or with what.
 */

const harnessFor = useHarnesses();
const defer = useCleanups();
const account = newSigningAccount();

type Answer = Record<string, unknown> & {
  display: { url: string; width: number; height: number; contentType: string };
};

/** Tags that locate or name anyone; a profile's own description and copyright are not. */
function identifying(tags: Record<string, unknown>): string[] {
  return Object.keys(tags).filter(
    (key) => identifyingTag.test(key) && !key.startsWith('ICC_Profile:'),
  );
}

function objectName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.split('/').pop()!);
}

async function json(response: Response): Promise<{ status: number; body: Answer }> {
  return { status: response.status, body: (await response.json()) as Answer };
}

/** Each door, as a client uses it: the answer it gives for `heic`. */
const doors: Record<
  string,
  (base: string, heic: Buffer) => Promise<{ status: number; body: Answer }>
> = {
  json: async (base, heic) =>
    json(
      await fetch(`${base}/v1/images`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: jsonBody(heic, 'image/heic'),
      }),
    ),
  multipart: async (base, heic) => {
    const built = multipartFile(heic, 'image/heic', 'IMG_0001.HEIC');
    return json(
      await fetch(`${base}/v1/images`, {
        method: 'POST',
        headers: { 'Content-Type': built.contentType },
        body: new Uint8Array(built.body),
      }),
    );
  },
  raw: async (base, heic) => {
    const built = rawBody(heic, 'image/heic');
    return json(
      await fetch(`${base}/v1/images`, {
        method: 'POST',
        headers: { 'Content-Type': built.contentType },
        body: new Uint8Array(built.body),
      }),
    );
  },
  'compat JSON': async (base, heic) =>
    json(
      await fetch(`${base}/v1/upload/image`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: jsonBody(heic, 'image/heic'),
      }),
    ),
  'compat form': async (base, heic) => {
    const built = multipartFile(heic, 'image/heic', 'IMG_0001.HEIC');
    return json(
      await fetch(`${base}/v1/upload/files`, {
        method: 'POST',
        headers: { 'Content-Type': built.contentType },
        body: new Uint8Array(built.body),
      }),
    );
  },
  tus: async (base, heic) => {
    const created = await fetch(`${base}/v1/uploads`, {
      method: 'POST',
      headers: {
        'Tus-Resumable': '1.0.0',
        'Upload-Length': String(heic.length),
        'Content-Type': 'application/offset+octet-stream',
      },
      body: new Uint8Array(heic),
    });
    expect(created.status).toBe(201);
    // The finished upload answers at its own URL as a 201 would (GET /v1/uploads/{id}).
    const at = new URL(created.headers.get('location')!, base).pathname;
    return json(await fetch(`${base}${at}`));
  },
  direct: async (base, heic) => {
    const created = (await (
      await fetch(`${base}/v1/uploads/direct`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ size: heic.length, type: 'image/heic' }),
      })
    ).json()) as { url: string; headers: Record<string, string>; completeUrl: string };
    const put = await fetch(created.url, {
      method: 'PUT',
      headers: created.headers,
      body: new Uint8Array(heic),
    });
    expect(put.ok).toBe(true);
    return json(await fetch(created.completeUrl, { method: 'POST' }));
  },
};

/** The facts every door must agree on; ids, names and URLs differ by upload. */
function comparable(answer: Answer): Record<string, unknown> {
  return {
    contentType: answer.contentType,
    extension: answer.extension,
    bytes: answer.bytes,
    sha256: answer.sha256,
    width: answer.width,
    height: answer.height,
    orientation: answer.orientation,
    display: { ...answer.display, url: undefined },
  };
}

describe.each(drivers)('HEIC on the %s driver', (driver: Driver) => {
  async function start(env: Record<string, string> = {}) {
    const harness = await harnessFor(driver, env, {
      storageClient: driver === 'gcs' ? signingClient(account) : undefined,
    });
    return { harness, base: await serve(harness, defer) };
  }

  // Seven 12 MP uploads, each decoded and re-encoded: minutes on a shared 2-core machine.
  it('takes an iPhone photo by every door with the same answer, located nowhere', async () => {
    const { harness, base } = await start();
    const heic = fixture(cameraHeics.iphone);
    expect(identifying(await exiftool(heic, 'heic'))).toEqual(
      expect.arrayContaining(['EXIF:GPSLatitude', 'EXIF:Make', 'EXIF:Model']),
    );
    const answers: Record<string, Answer> = {};
    for (const [door, upload] of Object.entries(doors)) {
      const { status, body } = await upload(base, heic);
      // The compatibility routes answer 200, as the services they stand in for did; tus is
      // read back with GET.
      expect([door, status]).toEqual([
        door,
        door.startsWith('compat') || door === 'tus' ? 200 : 201,
      ]);
      answers[door] = body;
    }
    const first = answers.json!;
    expect(first).toMatchObject({
      contentType: 'image/heic',
      extension: 'heic',
      width: 4032,
      height: 3024,
      display: { width: 4032, height: 3024, contentType: 'image/jpeg' },
    });
    for (const [door, answer] of Object.entries(answers)) {
      expect([door, comparable(answer)]).toEqual([door, comparable(first)]);
      expect(objectName(answer.display.url)).toBe(`${String(answer.id)}.display.jpg`);
    }

    // What is stored: the original without its location, and a JPEG every browser shows.
    const original = await harness.storedBytes(String(first.name));
    expect(createHash('sha256').update(original).digest('hex')).toBe(first.sha256);
    expect(identifying(await exiftool(original, 'heic'))).toEqual([]);
    const rendition = await harness.storedBytes(objectName(first.display.url));
    if (driver === 'local') {
      // The local driver serves it (its URLs name PUBLIC_BASE_URL; the path is what counts).
      const shown = await fetch(`${base}${new URL(first.display.url).pathname}`);
      expect(shown.headers.get('content-type')).toBe('image/jpeg');
      expect(Buffer.from(await shown.arrayBuffer()).equals(rendition)).toBe(true);
    }
    const tags = await exiftool(rendition, 'jpg');
    expect(identifying(tags)).toEqual([]);
    // sRGB with no profile, no EXIF at all (so no orientation left to apply).
    expect(Object.keys(tags).filter((key) => /^(EXIF|XMP|ICC_Profile|IPTC):/.test(key))).toEqual(
      [],
    );
    expect(await sharp(rendition).metadata()).toMatchObject({
      format: 'jpeg',
      width: 4032,
      height: 3024,
      space: 'srgb',
    });

    // GET answers the same description.
    const again = await json(await fetch(`${base}/v1/images/${String(first.id)}`));
    expect(again.body).toEqual({ ...first, deleteToken: undefined });
  }, 300_000);

  it('refuses a 200 MP phone photo from its headers, storing nothing', async () => {
    // Default settings (IMAGE_METADATA=strip): the grammar budgets the primary image from its
    // `ispe` before it looks at how the metadata could be stripped.
    const { harness } = await start();
    const response = await send(harness, '/v1/images', {
      contentType: 'image/heic',
      body: fixture(twoHundredMegapixelHeic),
    });
    expect(response.status).toBe(422);
    expect(response.body).toMatchObject({ error: { code: 'too_many_pixels' } });
    await harness.expectNothingStored();
  });

  it('refuses a photo whose HEVC data is broken, storing nothing', async () => {
    const { harness } = await start();
    const response = await send(harness, '/v1/images', {
      contentType: 'image/heic',
      body: withBrokenHevcData(fixture(cameraHeics.android)),
    });
    expect(response.status).toBe(422);
    expect(response.body).toMatchObject({ error: { code: 'undecodable_image' } });
    await harness.expectNothingStored();
  });
});

describe('HEIC camera files, as libheif shows them', () => {
  it.each(Object.entries(cameraHeics))(
    '%s: displayed size, orientation and colours as heif-convert decodes it; variants and a placeholder as for a JPEG',
    async (_, file) => {
      const harness = await harnessFor('local', {
        IMAGE_VARIANTS: 'thumbnail:200x200:cover,medium:800',
        IMAGE_VARIANTS_EAGER: 'true',
      });
      const heic = fixture(file);
      const reference = await decodedByHeifConvert(heic);
      const response = await send(harness, '/v1/images', { contentType: 'image/heic', body: heic });
      expect(response.status).toBe(201);
      const answer = response.body as Answer & {
        variants: Record<string, { url: string; width: number; height: number }>;
        placeholder: unknown;
        renditions: { widths: { width: number; url: string }[] };
      };
      expect(answer).toMatchObject({
        width: reference.width,
        height: reference.height,
        display: { width: reference.width, height: reference.height },
      });
      const rendition = await harness.storedBytes(objectName(answer.display.url));
      // Upright, and Display P3 converted to sRGB: the same picture as libheif's own decode.
      expect(meanDifference(await thumbnailOf(rendition), reference.thumbnail)).toBeLessThan(3);
      expect(identifying(await exiftool(rendition, 'jpg'))).toEqual([]);

      const portrait = reference.height > reference.width;
      const long = Math.round(
        (800 * Math.min(reference.width, reference.height)) /
          Math.max(reference.width, reference.height),
      );
      expect(answer.variants.thumbnail).toMatchObject({ width: 200, height: 200 });
      expect(answer.variants.medium).toMatchObject(
        portrait ? { width: long, height: 800 } : { width: 800, height: long },
      );
      for (const variant of Object.values(answer.variants)) {
        const bytes = await harness.storedBytes(objectName(variant.url));
        expect(identifying(await exiftool(bytes, 'webp'))).toEqual([]);
        const medium = await thumbnailOf(bytes);
        if (variant === answer.variants.medium) {
          expect(meanDifference(medium, reference.thumbnail)).toBeLessThan(3);
        }
      }
      expect(answer.placeholder).toMatchObject({ color: expect.stringMatching(/^#[0-9a-f]{6}$/) });
      const original = await harness.storedBytes(String(answer.name));
      expect(identifying(await exiftool(original, 'heic'))).toEqual([]);

      // A signed rendition of the HEIC, decoded by the same codec: `<id>.r-<key>.webp`, beside
      // (never in place of) `<id>.display.jpg`.
      const link = answer.renditions.widths[0]!;
      const url = new URL(link.url);
      const rendered = await send(harness, `${url.pathname}${url.search}`, {
        method: 'GET',
        headers: { Accept: 'image/webp' },
      });
      expect(rendered.status).toBe(200);
      const names = await harness.storedNames();
      const renditionNames = names.filter((name) => name.startsWith(`${String(answer.id)}.r-`));
      expect(renditionNames).toHaveLength(1);
      expect(names).toContain(`${String(answer.id)}.display.jpg`);

      // Deleting the image removes its display rendition, variants and renditions with it.
      const deleted = await send(harness, `/v1/images/${String(answer.id)}`, {
        method: 'DELETE',
        headers: { 'Delete-Token': String(answer.deleteToken) },
      });
      expect(deleted.status).toBe(204);
      expect(await harness.storedNames()).toEqual([]);
    },
    120_000,
  );

  it('answers display = the original for a type every browser shows', async () => {
    const harness = await harnessFor('local');
    const response = await send(harness, '/v1/images', {
      contentType: 'image/jpeg',
      body: fixture('photo.jpg'),
    });
    expect(response.status).toBe(201);
    const answer = response.body as Answer;
    expect(answer.display).toEqual({
      url: answer.url,
      width: 48,
      height: 64,
      contentType: 'image/jpeg',
    });
    expect(await harness.storedNames()).toEqual([answer.name]);
  });
});
