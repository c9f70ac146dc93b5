import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { pino } from 'pino';
import request from 'supertest';
import { loadConfig } from '../../src/config.js';
import { connectRateLimitStore } from '../../src/http/middleware/connect-rate-limit-store.js';
import type { RedisRateLimitStore } from '../../src/http/middleware/rate-limit-redis.js';
import { freePort } from '../support/emulator.js';
import { fixture, jsonBody, makeApp, type AppUnderTest } from './helpers.js';

/**
 * Rate limits shared by several instances through a real Redis (Debian's redis-server,
 * started by the test): two apps count against one budget per caller; with Redis gone the
 * requests go through rather than fail.
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

describe('rate limits shared through Redis', () => {
  const instances: AppUnderTest[] = [];
  const stores: RedisRateLimitStore[] = [];
  afterEach(async () => {
    for (const instance of instances.splice(0)) await instance.cleanup();
    for (const store of stores.splice(0)) store.close();
  });

  async function instance(store: RedisRateLimitStore): Promise<AppUnderTest> {
    stores.push(store);
    const app = await makeApp(
      'local',
      { RATE_LIMIT: '2', API_KEYS: key },
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
    const store = await connectRateLimitStore(config, pino({ level: 'silent' }));
    expect(store).toBeDefined();
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

  it('lets requests through, and logs it, when Redis is gone', async () => {
    const port = await freePort();
    const doomed = await startRedis(port);
    const store = await connectRateLimitStore(
      loadConfig({ REDIS_URL: `redis://127.0.0.1:${port}` }),
      pino({ level: 'silent' }),
    );
    const subject = await instance(store!);
    expect((await upload(subject)).status).toBe(201);
    const gone = new Promise((resolve) => doomed.once('exit', resolve));
    doomed.kill('SIGKILL');
    await gone;
    const response = await upload(subject);
    expect(response.status).toBe(201);
    expect(subject.log.text()).toContain('rate-limit store unavailable');
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
