import { describe, expect, it } from '@jest/globals';
import sharp from 'sharp';
import request from 'supertest';
import { renditionUrl, srcset, type CreatedImage } from '../../clients/typescript/src/index.js';
import { signRendition } from '../../src/renditions/rendition-signing.js';
import { useHarnesses, type Harness } from '../http/harness.js';
import { fixture, jsonBody } from '../support/requests.js';

const harnessFor = useHarnesses();
const key = 'a-rendition-signing-key-of-32-bytes-at-least';

async function upload(harness: Harness): Promise<CreatedImage> {
  const response = await request(harness.callback)
    .post('/v1/images')
    .set('Content-Type', 'application/json')
    .send(jsonBody(fixture('large.jpg'), 'image/jpeg'));
  expect(response.status).toBe(201);
  return response.body as CreatedImage;
}

function pathOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
}

describe('renditionUrl and srcset (typed client)', () => {
  it('signs as the service checks: the URL renders the asked rendition', async () => {
    const harness = await harnessFor('local', { RENDER_SIGNING_KEYS: key });
    const image = await upload(harness);
    const url = await renditionUrl(
      image,
      { width: 200, height: 100, fit: 'cover', format: 'webp', dpr: 1.5 },
      { key },
    );
    expect(url.startsWith('http://localhost:3000/v1/images/')).toBe(true);
    const query = new URL(url).searchParams;
    const params = new Map([...query].filter(([name]) => name !== 'sig'));
    expect(query.get('sig')).toBe(signRendition(`/v1/images/${image.id}/render`, params, key));
    const response = await request(harness.callback).get(pathOf(url)).buffer(true);
    expect(response.status).toBe(200);
    const meta = await sharp(response.body as Buffer).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 300, 150]);
    // Without the key the service refuses it.
    const unsigned = await renditionUrl(image, { width: 200 });
    expect((await request(harness.callback).get(pathOf(unsigned))).status).toBe(403);
  });

  it('takes a base URL, and needs a size or a preset', async () => {
    const image = { id: '0b6f6c1e-5d0e-4e43-9b64-5c2a8d0f4f4e' };
    expect(
      await renditionUrl(image, { preset: 'thumbnail' }, { baseUrl: 'https://cdn.test/img' }),
    ).toBe(
      'https://cdn.test/img/v1/images/0b6f6c1e-5d0e-4e43-9b64-5c2a8d0f4f4e/render?preset=thumbnail',
    );
    await expect(renditionUrl(image, {}, { baseUrl: 'https://cdn.test' })).rejects.toThrow(
      TypeError,
    );
    await expect(renditionUrl(image, { width: 10 })).rejects.toThrow(/baseUrl/);
  });

  it('gives the srcset the answer carries, or the displayed image alone', async () => {
    const harness = await harnessFor('local');
    const image = await upload(harness);
    expect(srcset(image)).toBe(image.renditions!.srcset);
    const { renditions: _none, ...without } = image;
    expect(srcset(without)).toBe(`${image.display.url} ${image.display.width}w`);
  });
});
