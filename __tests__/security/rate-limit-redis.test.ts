import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createClient } from '@redis/client';
import { pino } from 'pino';
import request from 'supertest';
import { loadConfig } from '../../src/config.js';
import { connectRateLimitStore } from '../../src/http/middleware/connect-rate-limit-store.js';
import { RedisRateLimitStore } from '../../src/http/middleware/rate-limit-redis.js';
import { freePort } from '../support/emulator.js';
import { fixture, jsonBody, LogCapture, makeApp, type AppUnderTest } from './helpers.js';

/**
 * Rate limits shared by several instances through a real Redis (Debian's redis-server,
 * started by the test): two apps count against one budget per caller; with Redis gone, hung
 * (SIGSTOP) or absent at start-up, requests are answered at once, counted by the instance
 * alone, and readiness says Redis is unreachable.
 */

const redisServer = '/usr/bin/redis-server';
const key = 'k_test_redis_0123456789abcdef';

let redis: ChildProcess;
let redisUrl: string;

async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    redisServer,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
    child.stdout.on('data', (data: Buffer) => {
      if (data.toString().includes('Ready to accept connections')) resolve();
    });
  });
  return child;
}

beforeAll(async () => {
  if (!existsSync(redisServer)) {
    throw new Error(`${redisServer} is missing: install it with apt-get install -y redis-server`);
  }
  const port = await freePort();
  redisUrl = `redis://127.0.0.1:${port}`;
  redis = await startRedis(port);
});

afterAll(() => {
  if (redis.exitCode === null) redis.kill('SIGKILL');
});

/** Resolves once the store's Redis answers a PING (readiness asks the same). */
async function untilReachable(store: RedisRateLimitStore): Promise<void> {
  while (!(await store.checkReady())) await new Promise((resolve) => setTimeout(resolve, 50));
}

describe('rate limits shared through Redis', () => {
  const instances: AppUnderTest[] = [];
  const stores: RedisRateLimitStore[] = [];
  const afterThis: (() => void)[] = [];
  afterEach(async () => {
    for (const undo of afterThis.splice(0)) undo();
    for (const instance of instances.splice(0)) await instance.cleanup();
    for (const store of stores.splice(0)) store.close();
  });

  async function instance(store: RedisRateLimitStore, rateLimit = 2): Promise<AppUnderTest> {
    stores.push(store);
    const app = await makeApp(
      'local',
      { RATE_LIMIT: String(rateLimit), API_KEYS: key },
      { rateLimitStore: store },
    );
    instances.push(app);
    return app;
  }

  const upload = (subject: AppUnderTest) =>
    request(subject.app.callback())
      .post('/v1/images')
      .set('Authorization', `Bearer ${key}`)
      .set('Content-Type', 'application/json')
      .send(jsonBody(fixture('photo.png')));

  it('counts one budget per caller across instances', async () => {
    const config = loadConfig({ REDIS_URL: redisUrl });
    const store = connectRateLimitStore(config, pino({ level: 'silent' }));
    expect(store).toBeDefined();
    await untilReachable(store!);
    const first = await instance(store!);
    const second = await instance(store!);
    expect((await upload(first)).status).toBe(201);
    expect((await upload(second)).status).toBe(201);
    const limited = await upload(first);
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ error: { code: 'rate_limited' } });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await upload(second)).status).toBe(429);
    expect(await first.stored()).toHaveLength(1);
    expect(await second.stored()).toHaveLength(1);
  });

  it('counts in the instance, and logs it once, when Redis is gone', async () => {
    const port = await freePort();
    const doomed = await startRedis(port);
    afterThis.push(() => doomed.kill('SIGKILL'));
    const log = new LogCapture();
    const store = connectRateLimitStore(
      loadConfig({ REDIS_URL: `redis://127.0.0.1:${port}` }),
      log.logger,
    );
    await untilReachable(store!);
    const subject = await instance(store!);
    expect((await upload(subject)).status).toBe(201);
    const gone = new Promise((resolve) => doomed.once('exit', resolve));
    doomed.kill('SIGKILL');
    await gone;
    // Redis counted one; this instance counts alone from none: two more, then the limit.
    expect((await upload(subject)).status).toBe(201);
    expect((await upload(subject)).status).toBe(201);
    expect((await upload(subject)).status).toBe(429);
    expect(log.text()).toContain('rate-limit store unavailable');
    expect(log.text().split('rate-limit store unavailable')).toHaveLength(2);
    const ready = await request(subject.app.callback()).get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', rateLimitStore: 'unreachable' });
  });

  it('answers at once while Redis is stopped (SIGSTOP), and readiness says so', async () => {
    const port = await freePort();
    const stopped = await startRedis(port);
    try {
      const store = connectRateLimitStore(
        loadConfig({ REDIS_URL: `redis://127.0.0.1:${port}` }),
        pino({ level: 'silent' }),
      );
      await untilReachable(store!);
      const subject = await instance(store!, 100);
      const created = await upload(subject);
      expect(created.status).toBe(201);
      expect((await request(subject.app.callback()).get('/readyz')).body).toEqual({
        status: 'ready',
        rateLimitStore: 'reachable',
      });

      stopped.kill('SIGSTOP');
      // Before the command timeout both hung until Redis came back (45 s and more).
      expect((await upload(subject)).status).toBe(201);
      const read = await request(subject.app.callback())
        .get(`/v1/images/${(created.body as { id: string }).id}`)
        .set('Authorization', `Bearer ${key}`);
      expect(read.status).toBe(200);
      const ready = await request(subject.app.callback()).get('/readyz');
      expect(ready.status).toBe(200);
      expect(ready.body).toEqual({ status: 'ready', rateLimitStore: 'unreachable' });

      stopped.kill('SIGCONT');
      await untilReachable(store!);
    } finally {
      stopped.kill('SIGKILL');
    }
  });

  it('starts without Redis, counts in the instance, and shares counts once Redis appears', async () => {
    const port = await freePort(); // nothing listens there yet
    const log = new LogCapture();
    // Before, this never returned while Redis was absent, and the service never listened.
    const store = connectRateLimitStore(
      loadConfig({ REDIS_URL: `redis://127.0.0.1:${port}` }),
      log.logger,
    );
    const subject = await instance(store!, 100);
    expect((await upload(subject)).status).toBe(201);
    expect((await request(subject.app.callback()).get('/readyz')).body).toEqual({
      status: 'ready',
      rateLimitStore: 'unreachable',
    });

    const late = await startRedis(port);
    try {
      await untilReachable(store!);
      const reader = createClient({ url: `redis://127.0.0.1:${port}` });
      await reader.connect();
      try {
        // The store asks Redis again a moment after its last failure; until then it counts alone.
        while ((await reader.keys('image-ingest:rate:*')).length === 0) {
          expect((await upload(subject)).status).toBe(201);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      } finally {
        reader.destroy();
      }
      expect(log.text()).toContain('counts are shared');
    } finally {
      late.kill('SIGKILL');
    }
  });

  it('while Redis hangs, one count waits; the rest count in memory at once, one PING probing at a time', async () => {
    const port = await freePort();
    const hung = await startRedis(port);
    const url = `redis://127.0.0.1:${port}`;
    let clientsMade = 0;
    const store = new RedisRateLimitStore(
      () => {
        const client = createClient({ url, disableOfflineQueue: true });
        client.on('error', () => undefined);
        client.connect().catch(() => undefined);
        clientsMade += 1;
        return client;
      },
      { commandTimeoutMs: 100, retryAfterMs: 20, reconnectAfterFailures: 2 },
    );
    stores.push(store);
    const reader = createClient({ url });
    try {
      await untilReachable(store);
      expect((await store.hit('first', 60_000)).count).toBe(1);
      hung.kill('SIGSTOP');
      // The count that finds Redis hung waits its timeout; it is the last one to wait.
      expect((await store.hit('first', 60_000)).count).toBe(1);
      // Many callers at once, over many probe windows, until the client was replaced twice.
      while (store.counts.reconnects < 2) {
        const hits = Array.from({ length: 20 }, (_, i) => store.hit(`caller-${i}`, 60_000));
        await Promise.all(hits);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const { waited, counted, probes, mostWaitingWhileFailing } = store.counts;
      expect(waited).toBe(2);
      expect(counted).toBeGreaterThanOrEqual(41);
      expect(probes).toBeGreaterThanOrEqual(4);
      expect(mostWaitingWhileFailing).toBe(1);
      expect(clientsMade).toBe(3);

      hung.kill('SIGCONT');
      await untilReachable(store);
      // Counts go to Redis again, from where Redis is: the memory counts are forgotten.
      expect((await store.hit('caller-0', 60_000)).count).toBe(1);
      await reader.connect();
      // No count made while Redis hung reached it late (each probe was a PING); the one
      // EVAL written before the hang was seen may still be applied.
      expect(await reader.keys('image-ingest:rate:caller-*')).toEqual([
        'image-ingest:rate:caller-0',
      ]);
      expect(Number(await reader.get('image-ingest:rate:first'))).toBeLessThanOrEqual(2);
    } finally {
      if (reader.isOpen) reader.destroy();
      hung.kill('SIGKILL');
    }
  });

  it('bounds connecting and commands by default; the settings are validated', () => {
    expect(loadConfig({}).security).toMatchObject({
      redisConnectTimeoutMs: 2000,
      redisCommandTimeoutMs: 250,
    });
    for (const variable of ['REDIS_CONNECT_TIMEOUT_MS', 'REDIS_COMMAND_TIMEOUT_MS']) {
      for (const value of ['0', 'soon', '60001', '-5']) {
        expect(() => loadConfig({ [variable]: value })).toThrow(
          expect.objectContaining({ variable }),
        );
      }
    }
  });

  it('refuses a REDIS_URL that is not a redis URL, without printing it', () => {
    expect(() => loadConfig({ REDIS_URL: 'http://user:hunter2@cache:6379' })).toThrow(
      expect.objectContaining({
        variable: 'REDIS_URL',
        message: expect.not.stringContaining('hunter2'),
      }),
    );
  });
});
