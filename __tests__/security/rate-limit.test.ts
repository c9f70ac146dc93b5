import { afterEach, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { isIP } from 'node:net';
import fc from 'fast-check';
import { addressKey } from '../../src/http/client-address.js';
import { MemoryRateLimitStore, overflowKey } from '../../src/http/middleware/rate-limit.js';
import { drivers, fixture, jsonBody, makeApp, type AppUnderTest, type Env } from './helpers.js';

/** Rate limits per caller: 429 rate_limited with Retry-After; X-Forwarded-For cannot be spoofed. */

const keyA = 'k_test_rate_a_0123456789abcdef';
const keyB = 'k_test_rate_b_0123456789abcdef';

describe.each(drivers)('rate limits on the %s driver', (driver) => {
  let subject: AppUnderTest | undefined;
  afterEach(async () => {
    await subject?.cleanup();
    subject = undefined;
  });

  async function start(env: Env) {
    subject = await makeApp(driver, { RATE_LIMIT: '2', ...env });
    return subject;
  }

  function upload(options: { key?: string; forwardedFor?: string } = {}) {
    let call = request(subject!.app.callback())
      .post('/v1/images')
      .set('Content-Type', 'application/json');
    if (options.key !== undefined) call = call.set('Authorization', `Bearer ${options.key}`);
    if (options.forwardedFor !== undefined)
      call = call.set('X-Forwarded-For', options.forwardedFor);
    return call.send(jsonBody(fixture('photo.png')));
  }

  it('answers 429 with Retry-After once a key has used its minute, storing nothing more', async () => {
    await start({ API_KEYS: `${keyA},${keyB}` });
    expect((await upload({ key: keyA })).status).toBe(201);
    expect((await upload({ key: keyA })).status).toBe(201);
    const stored = await subject!.stored();
    const limited = await upload({ key: keyA });
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ error: { code: 'rate_limited' } });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(await subject!.stored()).toEqual(stored);
    // Another caller has its own budget.
    expect((await upload({ key: keyB })).status).toBe(201);
  });

  it('cannot be escaped by forging X-Forwarded-For when no proxy is trusted', async () => {
    await start({});
    expect((await upload({ forwardedFor: '203.0.113.1' })).status).toBe(201);
    expect((await upload({ forwardedFor: '203.0.113.2' })).status).toBe(201);
    const before = await subject!.stored();
    const limited = await upload({ forwardedFor: '203.0.113.3' });
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ error: { code: 'rate_limited' } });
    expect(await subject!.stored()).toEqual(before);
  });

  it('with one trusted proxy, counts the address that proxy saw, not what the client wrote', async () => {
    await start({ TRUSTED_PROXY_COUNT: '1' });
    // The proxy appends the real client address; everything before it is the client's own text.
    expect((await upload({ forwardedFor: '198.51.100.1, 192.0.2.10' })).status).toBe(201);
    expect((await upload({ forwardedFor: '198.51.100.2, 192.0.2.10' })).status).toBe(201);
    const limited = await upload({ forwardedFor: '198.51.100.3, 192.0.2.10' });
    expect(limited.status).toBe(429);
    // A different real client behind the same proxy is not affected.
    expect((await upload({ forwardedFor: '192.0.2.11' })).status).toBe(201);
  });

  it('counts an address a proxy wrote with a port or brackets as the address itself', async () => {
    await start({ TRUSTED_PROXY_COUNT: '1' });
    expect((await upload({ forwardedFor: '192.0.2.20:5678' })).status).toBe(201);
    expect((await upload({ forwardedFor: '192.0.2.20' })).status).toBe(201);
    expect((await upload({ forwardedFor: '192.0.2.20:443' })).status).toBe(429);
    expect((await upload({ forwardedFor: '[2001:db8:9::1]:443' })).status).toBe(201);
    expect((await upload({ forwardedFor: '2001:db8:9::2' })).status).toBe(201);
    expect((await upload({ forwardedFor: '[2001:db8:9::3]' })).status).toBe(429);
  });

  it('counts anonymous IPv6 callers per /64, however many addresses they use', async () => {
    await start({ TRUSTED_PROXY_COUNT: '1' });
    expect((await upload({ forwardedFor: '2001:db8:1:2::a' })).status).toBe(201);
    expect((await upload({ forwardedFor: '2001:db8:1:2:5:6:7:8' })).status).toBe(201);
    expect((await upload({ forwardedFor: '2001:db8:1:2::ffff' })).status).toBe(429);
    // The next /64 is another client.
    expect((await upload({ forwardedFor: '2001:db8:1:3::a' })).status).toBe(201);
  });

  it('counts an IPv4-mapped IPv6 address as its IPv4 address', async () => {
    await start({ TRUSTED_PROXY_COUNT: '1' });
    expect((await upload({ forwardedFor: '::ffff:10.0.0.9' })).status).toBe(201);
    expect((await upload({ forwardedFor: '10.0.0.9' })).status).toBe(201);
    expect((await upload({ forwardedFor: '::ffff:10.0.0.9' })).status).toBe(429);
    expect((await upload({ forwardedFor: '10.0.0.9' })).status).toBe(429);
  });
});

describe('MemoryRateLimitStore', () => {
  it('starts a new window once the old one has ended, and forgets old callers', async () => {
    let now = 1_000_000;
    const store = new MemoryRateLimitStore({ now: () => now });
    expect((await store.hit('a', 60_000)).count).toBe(1);
    expect((await store.hit('a', 60_000)).count).toBe(2);
    now += 60_000;
    expect((await store.hit('a', 60_000)).count).toBe(1);
  });

  it('holds at most maxKeys callers: newcomers beyond share one counter, ended windows make room', async () => {
    let now = 1_000_000;
    const store = new MemoryRateLimitStore({ now: () => now, maxKeys: 100 });
    for (let caller = 0; caller < 1000; caller += 1) await store.hit(`ip:${caller}`, 60_000);
    // A hundred callers and the counter the 900 others shared.
    expect(store.size).toBe(101);
    expect((await store.hit('ip:0', 60_000)).count).toBe(2);
    expect((await store.hit(overflowKey, 60_000)).count).toBe(901);
    expect((await store.hit('ip:newcomer', 60_000)).count).toBe(902);
    now += 60_000;
    expect((await store.hit('ip:newcomer', 60_000)).count).toBe(1);
    for (let caller = 0; caller < 200; caller += 1) await store.hit(`ip:later-${caller}`, 60_000);
    expect(store.size).toBeLessThanOrEqual(101);
    store.clear();
    expect(store.size).toBe(0);
  });

  it.each([
    ['192.0.2.1', '192.0.2.1'],
    ['::ffff:192.0.2.1', '192.0.2.1'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2:ffff:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['::FFFF:0a00:0009', '10.0.0.9'],
    ['::ffff:10.0.0.9', '10.0.0.9'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['2001:0DB8:0001:0002::1.2.3.4', '2001:db8:1:2::/64'],
    ['unknown', 'unknown'],
    ['1.2.3.4:5678', '1.2.3.4'],
    ['[2001:db8::1]:443', '2001:db8:0:0::/64'],
    ['[2001:db8::1]', '2001:db8:0:0::/64'],
    ['[::ffff:10.0.0.9]:80', '10.0.0.9'],
    [' 10.0.0.9 ', '10.0.0.9'],
  ])('counts %s as %s', (ip, key) => {
    expect(addressKey(ip)).toBe(key);
  });

  it('counts what is still no address by the connection, never as written', () => {
    fc.assert(
      fc.property(fc.string(), (written) => {
        const key = addressKey(written, '192.0.2.7');
        if (isIP(written.trim().replace(/%.*$/, '')) === 0) {
          expect(['192.0.2.7', addressKey(written)]).toContain(key);
          expect(key === written && isIP(key) === 0).toBe(false);
        }
      }),
    );
    expect(addressKey('not-an-ip', '::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(addressKey('1.2.3.4:http', '192.0.2.7')).toBe('192.0.2.7');
    expect(addressKey('2001:db8::1, 10.0.0.1', '192.0.2.7')).toBe('192.0.2.7');
  });
});
