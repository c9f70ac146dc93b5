import { describe, expect, it } from '@jest/globals';
import {
  drivers,
  fixture,
  jsonBody,
  multipartBody,
  sha256,
  type BuiltBody,
} from '../support/requests.js';
import { storedFormOf } from '../support/image-facts.js';
import { expectErrorResponse } from './expect-error.js';
import { send, useHarnesses, type Harness, type SentResponse } from './harness.js';

const harnessFor = useHarnesses();

function post(
  harness: Harness,
  path: string,
  built: BuiltBody,
  headers: Record<string, string> = {},
): Promise<SentResponse> {
  return send(harness, path, { contentType: built.contentType, body: built.body, headers });
}

const json = (bytes: Buffer): BuiltBody => ({
  contentType: 'application/json',
  body: Buffer.from(jsonBody(bytes, 'image/jpeg')),
});

type Answer = Record<string, unknown>;

describe.each(drivers)("open-event-server's upload routes on the %s driver", (driver) => {
  it('POST /v1/upload/image takes {"data": "<data URI>"} and answers its url', async () => {
    const harness = await harnessFor(driver);
    const photo = fixture('photo.jpg');
    const stored = await storedFormOf(photo);
    const response = await post(harness, '/v1/upload/image', json(photo));
    expect(response.status).toBe(200);
    const answer = response.body as Answer;
    expect(answer).toMatchObject({ sha256: sha256(stored), width: 48, height: 64 });
    expect(answer.url).toBe(harness.store.publicUrl(String(answer.name)));
    expect((await harness.storedBytes(String(answer.name))).equals(stored)).toBe(true);
  });

  it('POST /v1/upload/files takes one `file` and answers its url', async () => {
    const harness = await harnessFor(driver);
    const photo = fixture('photo.png');
    const form = multipartBody({ files: [{ bytes: photo, type: 'image/png', filename: 'a.png' }] });
    const response = await post(harness, '/v1/upload/files', form);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ sha256: sha256(photo), url: expect.any(String) });
  });

  it('POST /v1/upload/files takes several `files[]` and answers a list of urls', async () => {
    const harness = await harnessFor(driver);
    const images = [fixture('photo.png'), fixture('photo.webp'), fixture('anim.gif')];
    const form = multipartBody({
      files: images.map((bytes, index) => ({ field: 'files[]', bytes, filename: `${index}.bin` })),
      fields: { event: '42' },
    });
    const response = await post(harness, '/v1/upload/files', form);
    expect(response.status).toBe(200);
    const answer = response.body as { url: string[]; images: Answer[] };
    expect(answer.url).toHaveLength(3);
    expect(answer.images.map((image) => image.sha256)).toEqual(images.map(sha256));
    expect(answer.images.map((image) => image.url)).toEqual(answer.url);
    expect(answer.images[2]).toMatchObject({ contentType: 'image/gif', frames: 3 });
    expect((await harness.storedNames()).length).toBe(3);
  });

  it('stores none of the files when one of them is refused', async () => {
    const harness = await harnessFor(driver);
    const form = multipartBody({
      files: [
        { field: 'files[]', bytes: fixture('photo.png'), type: 'image/png' },
        { field: 'files[]', bytes: fixture('script.svg'), type: 'image/png' },
      ],
    });
    const response = await post(harness, '/v1/upload/files', form);
    expectErrorResponse(response, 'unsupported_image_type');
    await harness.expectNothingStored();
  });

  it('leaves no variant behind when a later file is refused', async () => {
    const harness = await harnessFor(driver, {
      IMAGE_VARIANTS: 'thumbnail:16x16:cover',
      IMAGE_VARIANTS_EAGER: 'true',
    });
    const form = multipartBody({
      files: [
        { field: 'files[]', bytes: fixture('photo.png'), type: 'image/png' },
        { field: 'files[]', bytes: fixture('script.svg'), type: 'image/png' },
      ],
    });
    expectErrorResponse(await post(harness, '/v1/upload/files', form), 'unsupported_image_type');
    await harness.expectNothingStored();
  });

  it('refuses a form without any file, and a body of the wrong kind, storing nothing', async () => {
    const harness = await harnessFor(driver);
    const empty = multipartBody({ fields: { event: '42' } });
    expectErrorResponse(await post(harness, '/v1/upload/files', empty), 'missing_file');
    const asJson = json(fixture('photo.png'));
    expectErrorResponse(await post(harness, '/v1/upload/files', asJson), 'unsupported_media_type');
    const form = multipartBody({ files: [{ bytes: fixture('photo.png') }] });
    expectErrorResponse(await post(harness, '/v1/upload/image', form), 'unsupported_media_type');
    await harness.expectNothingStored();
  });
});

describe('the compatibility routes behind the same guard as /v1/images', () => {
  it('asks for credentials when the service has them', async () => {
    const key = 'compat-route-test-key-0123456789';
    const harness = await harnessFor('local', { API_KEYS: key });
    const photo = fixture('photo.jpg');
    expectErrorResponse(await post(harness, '/v1/upload/image', json(photo)), 'unauthorized');
    const allowed = await post(harness, '/v1/upload/image', json(photo), {
      Authorization: `Bearer ${key}`,
    });
    expect(allowed.status).toBe(200);
    // An authenticated upload deletes as its owner: no token is handed out.
    expect(allowed.body).not.toHaveProperty('deleteToken');
  });
});
