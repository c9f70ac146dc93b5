import { afterEach, describe, expect, it } from '@jest/globals';
import { multipartBody, multipartFile, sha256 } from '../support/requests.js';
import { drivers, expectRefused, fixture, makeApp, type AppUnderTest } from './helpers.js';

/**
 * Hostile forms, over a real socket, on both drivers: each gets its clear error and nothing is
 * stored, no temp file or spool file either. The parser's own cases live beside it
 * (__tests__/ingest/multipart.test.ts); these prove the route answers them end to end.
 */

const apps: AppUnderTest[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.cleanup()));
});

async function appFor(
  driver: (typeof drivers)[number],
  env: Record<string, string> = {},
): Promise<AppUnderTest> {
  const app = await makeApp(driver, env);
  apps.push(app);
  return app;
}

const boundary = 'hostile-boundary-7f3a';
const multipartType = `multipart/form-data; boundary=${boundary}`;

function post(app: AppUnderTest, contentType: string, body: Buffer) {
  return app.postBytes('/v1/images', { 'Content-Type': contentType }, body);
}

describe.each(drivers)('hostile multipart bodies on the %s driver', (driver) => {
  it.each([
    ['a path in the filename', '../../etc/passwd'],
    ['a Windows path', 'C:\\Windows\\system32\\evil.png'],
    ['an encoded NUL in the filename', "*=UTF-8''photo.png%00.html"],
  ])('stores %s under its own <uuid>.<ext> only', async (_, filename) => {
    const app = await appFor(driver);
    const photo = fixture('photo.png');
    const form = multipartBody({ files: [{ bytes: photo, type: 'image/png', filename }] });
    // RFC 5987's filename*=: the builder writes filename="..."; rewrite it for that case.
    const body = filename.startsWith('*=')
      ? Buffer.from(
          form.body.toString('latin1').replace(`filename="${filename}"`, `filename${filename}`),
          'latin1',
        )
      : form.body;
    const response = await post(app, form.contentType, body);
    expect(response.status).toBe(201);
    const answer = response.body as Record<string, unknown>;
    expect(answer.name).toMatch(/^[0-9a-f-]{36}\.png$/);
    expect(answer.sha256).toBe(sha256(photo));
    expect(JSON.stringify(answer)).not.toMatch(/passwd|evil|html|\\u0000/);
    expect(await app.stored()).toEqual([answer.name]);
  });

  it.each([
    ['an SVG', 'script.svg', 415, 'unsupported_image_type'],
    ['an HTML page', 'page.html', 415, 'unsupported_image_type'],
    ['a PNG+HTML polyglot', 'polyglot.png', 422, 'undecodable_image'],
  ])('refuses %s labelled image/png', async (_, name, status, code) => {
    const app = await appFor(driver);
    const form = multipartFile(fixture(name), 'image/png', 'innocent.png');
    await expectRefused(await post(app, form.contentType, form.body), status, code, app);
  });

  it('refuses a raw NUL in a part header', async () => {
    const app = await appFor(driver);
    const form = multipartFile(fixture('photo.png'), 'image/png', 'photo.png\u0000.html');
    await expectRefused(
      await post(app, form.contentType, form.body),
      400,
      'invalid_multipart',
      app,
    );
  });

  it('refuses ten thousand tiny text fields at the fields limit', async () => {
    const app = await appFor(driver);
    const part = `--${boundary}\r\nContent-Disposition: form-data; name="f"\r\n\r\nx\r\n`;
    const body = Buffer.from(`${part.repeat(10_000)}--${boundary}--\r\n`);
    await expectRefused(await post(app, multipartType, body), 413, 'too_many_fields', app);
  });

  it('refuses ten thousand tiny empty parts at the parts limit', async () => {
    const app = await appFor(driver, { MULTIPART_MAX_FIELDS: '0' });
    // Parts that are neither fields nor files (no name) still count as parts.
    const part = `--${boundary}\r\nContent-Type: text/plain\r\n\r\nx\r\n`;
    const body = Buffer.from(`${part.repeat(10_000)}--${boundary}--\r\n`);
    await expectRefused(await post(app, multipartType, body), 413, 'too_many_parts', app);
  });

  it('refuses a form whose boundary never closes', async () => {
    const app = await appFor(driver);
    const form = multipartFile(fixture('large.jpg'), 'image/jpeg', 'large.jpg');
    const cut = form.body.subarray(0, form.body.length - 40);
    await expectRefused(await post(app, form.contentType, cut), 400, 'invalid_multipart', app);
  });

  it('refuses a part header that never ends', async () => {
    const app = await appFor(driver);
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n`),
      Buffer.from(`X-Padding: ${'a'.repeat(1024 * 1024)}`),
    ]);
    await expectRefused(await post(app, multipartType, body), 400, 'invalid_multipart', app);
  });

  it('refuses a second file part after a valid image', async () => {
    const app = await appFor(driver);
    const photo = fixture('photo.png');
    const form = multipartBody({
      files: [
        { bytes: photo, type: 'image/png' },
        { bytes: photo, type: 'image/png' },
      ],
    });
    await expectRefused(await post(app, form.contentType, form.body), 400, 'too_many_files', app);
  });

  it('refuses a form without a file part', async () => {
    const app = await appFor(driver);
    const form = multipartBody({ fields: { title: 'no image here' } });
    await expectRefused(await post(app, form.contentType, form.body), 422, 'missing_file', app);
  });

  it('refuses a multipart body without a boundary', async () => {
    const app = await appFor(driver);
    const form = multipartFile(fixture('photo.png'));
    await expectRefused(
      await post(app, 'multipart/form-data', form.body),
      400,
      'invalid_multipart',
      app,
    );
  });
});
