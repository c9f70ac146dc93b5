import { afterEach, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { dataUri, drivers, expectRefused, fixture, makeApp, type AppUnderTest } from './helpers.js';

/**
 * JSON tricks: prototype-pollution payloads change nothing, nesting and size are bounded,
 * and the raw body never appears in a response or the log.
 */

describe.each(drivers)('JSON tricks on the %s driver', (driver) => {
  let subject: AppUnderTest | undefined;
  afterEach(async () => {
    await subject?.cleanup();
    subject = undefined;
  });

  const post = async (body: string | Buffer, contentLength?: number) => {
    subject ??= await makeApp(driver);
    let call = request(subject.app.callback())
      .post('/v1/images')
      .set('Content-Type', 'application/json');
    if (contentLength !== undefined) call = call.set('Content-Length', String(contentLength));
    return call.send(body);
  };

  it.each([
    ['__proto__', `{"__proto__": {"polluted": "yes"}, "data": "${dataUri(fixture('photo.png'))}"}`],
    [
      'constructor.prototype',
      `{"constructor": {"prototype": {"polluted": "yes"}}, "data": "${dataUri(fixture('photo.png'))}"}`,
    ],
    [
      'a __proto__ that tries to supply "data"',
      `{"__proto__": {"data": "${dataUri(fixture('photo.png'))}"}}`,
    ],
  ])('a %s payload changes nothing', async (name, body) => {
    const response = await post(body);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((Object.prototype as Record<string, unknown>).data).toBeUndefined();
    if (name.includes('tries to supply')) {
      await expectRefused(response, 422, 'missing_data', subject!);
    } else {
      expect(response.status).toBe(201);
    }
  });

  it('bounds deep nesting: refused without a 500 or a stack overflow', async () => {
    const depth = 100_000;
    const body = `{"data": "${dataUri(fixture('photo.png'))}", "x": ${'['.repeat(depth)}${']'.repeat(depth)}}`;
    const response = await post(body);
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(await subject!.stored()).toEqual([]);
  });

  it('refuses a huge declared body before reading it', async () => {
    subject = await makeApp(driver, { MAX_IMAGE_BYTES: '1024' });
    const response = await request(subject.app.callback())
      .post('/v1/images')
      .set('Content-Type', 'application/json')
      .send(`{"data": "data:image/png;base64,${'A'.repeat(64 * 1024)}"}`);
    await expectRefused(response, 413, 'payload_too_large', subject);
  });

  it('bounds a huge body of JSON outside the data string', async () => {
    const response = await post(
      `{"data": "${dataUri(fixture('photo.png'))}", "pad": "${'x'.repeat(512 * 1024)}"}`,
    );
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(await subject!.stored()).toEqual([]);
  });

  it('never shows the raw body in the response or the log', async () => {
    const marker = 'SECRET-BODY-MARKER-<script>alert(1)</script>';
    for (const body of [
      `{"data": "${marker}"}`,
      `{"data": "data:image/png;base64,${marker}"}`,
      `{"data": 1, "${marker}": 2}`,
      `not json ${marker}`,
      `{"data": "${dataUri(fixture('polyglot.png'))}", "note": "${marker}"}`,
    ]) {
      const response = await post(body);
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      expect(response.text).not.toContain('SECRET-BODY-MARKER');
      expect(response.text).not.toContain('<script>');
    }
    expect(subject!.log.text()).not.toContain('SECRET-BODY-MARKER');
    expect(await subject!.stored()).toEqual([]);
  });
});
