import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type CryptoKey } from 'jose';
import request from 'supertest';
import { ConfigError, loadConfig } from '../../src/config.js';
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
 * Only the right callers: API keys (plain or sha256-hashed) and JWTs (HS256 secret, or a JWKS
 * served over HTTP by a real server in this test); anything else is 401 with
 * WWW-Authenticate and nothing stored.
 */

const apiKey = 'k_live_7Qm2xR9sT4vW8yZ1aB3cD5eF';
const hashedKey = 'k_live_hashed_only_9f8e7d6c5b4a';
const secret = 'a-test-secret-that-is-at-least-32-bytes-long!';
const issuer = 'https://auth.example.test';
const audience = 'image-ingest';

let jwksServer: Server;
let jwksUrl: string;
let signingKey: CryptoKey;
let foreignKey: CryptoKey;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256');
  signingKey = pair.privateKey;
  foreignKey = (await generateKeyPair('ES256')).privateKey;
  const jwk: JWK = {
    ...(await exportJWK(pair.publicKey)),
    kid: 'test-key',
    alg: 'ES256',
    use: 'sig',
  };
  jwksServer = createServer((_request, response) => {
    response.writeHead(200, { 'Content-Type': 'application/json' });
    response.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  const address = jwksServer.address();
  jwksUrl = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/jwks.json`;
});

afterAll(async () => {
  await new Promise((resolve) => jwksServer.close(resolve));
});

interface Claims {
  readonly iss?: string;
  readonly aud?: string;
  readonly sub?: string;
  readonly exp?: number | string;
}

const goodClaims: Claims = { iss: issuer, aud: audience, sub: 'user-42', exp: '5m' };

async function hs256(claims: Claims, key = secret): Promise<string> {
  let jwt = new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuedAt();
  if (claims.iss !== undefined) jwt = jwt.setIssuer(claims.iss);
  if (claims.aud !== undefined) jwt = jwt.setAudience(claims.aud);
  if (claims.sub !== undefined) jwt = jwt.setSubject(claims.sub);
  if (claims.exp !== undefined) jwt = jwt.setExpirationTime(claims.exp);
  return jwt.sign(new TextEncoder().encode(key));
}

async function es256(claims: Claims, key = signingKey): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: 'test-key' })
    .setIssuer(claims.iss ?? issuer)
    .setAudience(claims.aud ?? audience)
    .setSubject(claims.sub ?? 'user-7')
    .setIssuedAt()
    .setExpirationTime(claims.exp ?? '5m')
    .sign(key);
}

function unsignedToken(): string {
  const encode = (value: object): string =>
    Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode({ alg: 'none' })}.${encode({ iss: issuer, aud: audience, sub: 'x', exp: 9e9 })}.`;
}

const authEnv = (): Env => ({
  API_KEYS: `${apiKey}, sha256:${createHash('sha256').update(hashedKey).digest('hex')}`,
  JWT_SECRET: secret,
  JWT_JWKS_URL: jwksUrl,
  JWT_ISSUER: issuer,
  JWT_AUDIENCE: audience,
});

describe.each(drivers)('authentication on the %s driver', (driver) => {
  let subject: AppUnderTest | undefined;
  afterEach(async () => {
    await subject?.cleanup();
    subject = undefined;
  });

  async function upload(authorization: string | undefined) {
    subject ??= await makeApp(driver, authEnv());
    let call = request(subject.app.callback())
      .post('/v1/images')
      .set('Content-Type', 'application/json');
    if (authorization !== undefined) call = call.set('Authorization', authorization);
    return call.send(jsonBody(fixture('photo.png')));
  }

  const refusedCredentials: [string, () => Promise<string | undefined>][] = [
    ['no Authorization header', () => Promise.resolve(undefined)],
    ['a wrong API key', () => Promise.resolve('Bearer k_live_wrong_key_0000000000')],
    ['the API key in another scheme', () => Promise.resolve(`Basic ${apiKey}`)],
    [
      'the sha256 digest itself instead of the key',
      () => Promise.resolve(`Bearer ${createHash('sha256').update(hashedKey).digest('hex')}`),
    ],
    [
      'an HS256 token signed with another secret',
      async () => `Bearer ${await hs256(goodClaims, 'another-secret-that-is-also-32-bytes-long')}`,
    ],
    [
      'an HS256 token for another audience',
      async () => `Bearer ${await hs256({ ...goodClaims, aud: 'someone-else' })}`,
    ],
    [
      'an HS256 token from another issuer',
      async () => `Bearer ${await hs256({ ...goodClaims, iss: 'https://evil.test' })}`,
    ],
    [
      'an expired HS256 token',
      async () =>
        `Bearer ${await hs256({ ...goodClaims, exp: Math.floor(Date.now() / 1000) - 600 })}`,
    ],
    [
      'an HS256 token without a subject',
      async () => `Bearer ${await hs256({ ...goodClaims, sub: undefined })}`,
    ],
    ['an unsigned token (alg none)', () => Promise.resolve(`Bearer ${unsignedToken()}`)],
    [
      'an ES256 token signed by a key not in the JWKS',
      async () => `Bearer ${await es256({}, foreignKey)}`,
    ],
    [
      'an ES256 token for another audience',
      async () => `Bearer ${await es256({ aud: 'someone-else' })}`,
    ],
  ];

  it.each(refusedCredentials)('refuses %s with 401 and stores nothing', async (_name, make) => {
    const response = await upload(await make());
    await expectRefused(response, 401, 'unauthorized', subject!);
    expect(response.headers['www-authenticate']).toMatch(/^Bearer realm="image-ingest"/);
  });

  const acceptedCredentials: [string, () => Promise<string>][] = [
    ['a plain API key', () => Promise.resolve(`Bearer ${apiKey}`)],
    ['a key configured as its sha256 digest', () => Promise.resolve(`Bearer ${hashedKey}`)],
    ['an HS256 token', async () => `Bearer ${await hs256(goodClaims)}`],
    ['an ES256 token verified against the JWKS', async () => `Bearer ${await es256({})}`],
  ];

  it.each(acceptedCredentials)('accepts %s', async (_name, make) => {
    const response = await upload(await make());
    expect(response.status).toBe(201);
    expect(await subject!.stored()).toEqual([(response.body as { name: string }).name]);
  });

  it('never echoes the credential in the response or the log', async () => {
    const response = await upload('Bearer k_live_wrong_key_0000000000');
    expect(response.status).toBe(401);
    expect(JSON.stringify(response.body)).not.toContain('k_live_wrong');
    expect(subject!.log.text()).not.toContain('k_live_wrong');
  });

  it('leaves health checks open', async () => {
    subject = await makeApp(driver, authEnv());
    const response = await request(subject.app.callback()).get('/healthz');
    expect(response.status).toBe(200);
  });
});

describe('running open', () => {
  it('runs open outside production when no credentials are configured', () => {
    expect(loadConfig({}).security.auth.anonymous).toBe(true);
  });

  it('refuses to start in production without credentials, naming ALLOW_ANONYMOUS', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/ALLOW_ANONYMOUS/);
  });

  it('starts open in production only when asked to explicitly', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      ALLOW_ANONYMOUS: 'true',
      RENDER_ALLOW_UNSIGNED: 'true',
    });
    expect(config.security.auth.anonymous).toBe(true);
  });

  it('starts in production with an API key', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      API_KEYS: apiKey,
      RENDER_ALLOW_UNSIGNED: 'true',
    });
    expect(config.security.auth.anonymous).toBe(false);
  });

  it.each([
    [{ API_KEYS: 'short' }, 'API_KEYS'],
    [{ API_KEYS: 'sha256:abc' }, 'API_KEYS'],
    [{ JWT_SECRET: 'too-short' }, 'JWT_SECRET'],
    [{ JWT_SECRET: secret, JWT_AUDIENCE: audience }, 'JWT_ISSUER'],
    [{ JWT_SECRET: secret, JWT_ISSUER: issuer }, 'JWT_AUDIENCE'],
    [{ JWT_JWKS_URL: 'not a url', JWT_ISSUER: issuer, JWT_AUDIENCE: audience }, 'JWT_JWKS_URL'],
    [{ ALLOW_ANONYMOUS: 'yes' }, 'ALLOW_ANONYMOUS'],
    [{ CORS_ORIGINS: 'https://app.example.com/' }, 'CORS_ORIGINS'],
    [{ CORS_ORIGINS: '*' }, 'CORS_ORIGINS'],
    [{ RATE_LIMIT: '-1' }, 'RATE_LIMIT'],
    [{ MAX_IMAGE_PIXELS: '0' }, 'MAX_IMAGE_PIXELS'],
    [{ MAX_CONCURRENT_UPLOADS: 'many' }, 'MAX_CONCURRENT_UPLOADS'],
    [{ IMAGE_VALIDATION: 'none' }, 'IMAGE_VALIDATION'],
    [{ IMAGE_VALIDATION: 'structure', ALLOWED_TYPES: 'image/png,image/tiff' }, 'IMAGE_VALIDATION'],
    [{ ALLOWED_TYPES: 'image/png,image/bmp' }, 'ALLOWED_TYPES'],
    // JPEG XL: neither mode can verify it (HEIC now decodes, so it is no longer the example).
    [{ ALLOWED_TYPES: 'image/jxl' }, 'ALLOWED_TYPES'],
  ] as [Env, string][])('rejects a bad security setting %j, naming %s', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(expect.objectContaining({ variable }));
  });

  it('never prints a key in a configuration error', () => {
    expect(() => loadConfig({ API_KEYS: 'short-secret' })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('short-secret') }),
    );
  });
});

describe('JWT subjects and age', () => {
  let subject: AppUnderTest | undefined;
  afterEach(async () => {
    await subject?.cleanup();
    subject = undefined;
  });

  /** An HS256 token with these claims as they are, of any JSON type (iat only if given). */
  function tokenWith(claims: Record<string, unknown>): Promise<string> {
    return new SignJWT({ iss: issuer, aud: audience, ...claims })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(secret));
  }

  const now = (): number => Math.floor(Date.now() / 1000);

  async function upload(token: string, env: Env = {}) {
    subject ??= await makeApp('local', { ...authEnv(), ...env });
    return request(subject.app.callback())
      .post('/v1/images')
      .set('Content-Type', 'application/json')
      .set('Authorization', `Bearer ${token}`)
      .send(jsonBody(fixture('photo.png')));
  }

  it.each([
    ['a number', 42],
    ['an object', { user: 'dave' }],
    ['an array', ['dave']],
    ['null', null],
    ['an empty string', ''],
    ['a string of 256 characters', 'a'.repeat(256)],
    ['a string with a line break', 'dave\nadmin'],
  ])('refuses a token whose sub is %s, saying why (401 invalid_token)', async (_name, sub) => {
    const response = await upload(await tokenWith({ sub, iat: now(), exp: now() + 300 }));
    await expectRefused(response, 401, 'unauthorized', subject!);
    expect(response.headers['www-authenticate']).toBe(
      'Bearer realm="image-ingest", error="invalid_token"',
    );
    expect((response.body as { error: { message: string } }).error.message).toMatch(/"sub"/);
  });

  it('takes a string sub of 255 characters, and "42" (never the same caller as 42)', async () => {
    for (const sub of ['a'.repeat(255), '42']) {
      const response = await upload(await tokenWith({ sub, iat: now(), exp: now() + 300 }));
      expect(response.status).toBe(201);
    }
  });

  it('refuses a token without iat, or issued longer ago than JWT_MAX_AGE_SECONDS', async () => {
    const noIat = await upload(await tokenWith({ sub: 'dave', exp: now() + 300 }));
    await expectRefused(noIat, 401, 'unauthorized', subject!);
    const noExpButOld = await upload(await tokenWith({ sub: 'dave', iat: now() - 2 * 86_400 }));
    await expectRefused(noExpButOld, 401, 'unauthorized', subject!);
    const fresh = await upload(await tokenWith({ sub: 'dave', iat: now() - 60 }));
    expect(fresh.status).toBe(201);
  });

  it('takes a token without iat when JWT_MAX_AGE_SECONDS=0 turns the bound off', async () => {
    const response = await upload(await tokenWith({ sub: 'dave', exp: now() + 300 }), {
      JWT_MAX_AGE_SECONDS: '0',
    });
    expect(response.status).toBe(201);
  });

  it('names JWT_MAX_AGE_SECONDS when it is not a number of seconds', () => {
    expect(() => loadConfig({ JWT_MAX_AGE_SECONDS: '1d' })).toThrow(
      expect.objectContaining({ variable: 'JWT_MAX_AGE_SECONDS' }),
    );
  });
});
