/**
 * ServiceAuthModule with `replay.redis` (Task: the module builds the RedisNonceStore), against a real
 * redis-server: namespace = serviceId, owned client closed on shutdown, injected client left alone,
 * store errors logged without secrets, 503 bodies that say nothing about Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, type DynamicModule, type INestApplication, type LoggerService } from '@nestjs/common';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServiceApp } from 'service-app';

import { startRedisServer, type RedisServerHandle } from '../../../../test/support/redis-server.js';
import { findFreePort } from '../../../../test/support/server-process.js';
import { rawRequest, signedHeaders } from '../../../../test/support/raw-http.js';
import { deriveKeys } from '../keys/key-derivation.js';
import { MemoryNonceStore } from '../replay/memory-nonce-store.js';
import type { NonceStore } from '../replay/nonce-store.interface.js';
import { RedisNonceStore } from '../redis/redis-nonce-store.js';
import { createNonceStore, storeErrorLogger, STORE_ERROR_LOG_INTERVAL_MS } from './nonce-store.factory.js';
import { NONCE_STORE } from './options/service-auth.constants.js';
import { ServiceAuthModule } from './service-auth.module.js';
import type { ReplayOptions, ServiceAuthModuleOptions } from './options/service-auth-options.interface.js';
import { TrustedCaller } from './decorators/trusted-caller.decorator.js';
import { resolveOptions } from './options/resolved-options.js';
import { validateOptions } from './options/validate-options.js';

const ORDER = { id: 'k-order', apiKey: 'sk_' + randomBytes(32).toString('base64url'), secret: randomBytes(32).toString('base64url') };
const orderSigning = {
  id: ORDER.id,
  apiKey: ORDER.apiKey,
  hmacKey: deriveKeys(Buffer.from(ORDER.secret, 'base64url')).hmacKey,
  audience: 'inventory-service',
};

@Controller('probe')
@TrustedCaller('order-service')
class ProbeController {
  @Get()
  ok() {
    return { ok: true };
  }
}

class CapturingLogger implements LoggerService {
  readonly lines: { level: string; message: unknown }[] = [];
  log = () => undefined;
  debug = () => undefined;
  verbose = () => undefined;
  warn = (message: unknown) => void this.lines.push({ level: 'warn', message });
  error = (message: unknown) => void this.lines.push({ level: 'error', message });
  fatal = (message: unknown) => void this.lines.push({ level: 'fatal', message });
}

function appModule(replay: ReplayOptions): DynamicModule {
  @Module({})
  class ProbeApp {}
  return {
    module: ProbeApp,
    imports: [
      ServiceAuthModule.forRoot({
        serviceId: 'inventory-service',
        keys: { callers: [{ id: 'order-service', keys: [ORDER] }] },
        replay,
      }),
    ],
    controllers: [ProbeController],
  };
}

async function startApp(replay: ReplayOptions, logger: LoggerService | false = false): Promise<{ app: INestApplication; url: string }> {
  const app = await createServiceApp(appModule(replay), { logger });
  await app.listen(0, '127.0.0.1');
  const { port } = (app.getHttpServer() as Server).address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${port}` };
}

const get = (url: string) =>
  rawRequest(url, { method: 'GET', path: '/probe', headers: signedHeaders(url, orderSigning, { method: 'GET', path: '/probe' }) });

/** Connected clients, as Redis counts them. */
async function clientCount(admin: Redis): Promise<number> {
  const list = (await admin.client('LIST')) as string;
  return list.trim().split('\n').length;
}

describe('ServiceAuthModule replay.redis (real redis-server)', () => {
  let redis: RedisServerHandle;
  let admin: Redis;

  beforeAll(async () => {
    redis = await startRedisServer();
    admin = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  });

  afterAll(async () => {
    admin?.disconnect();
    await redis?.stop();
  });

  it('replay.redis.url: a RedisNonceStore namespaced by serviceId; replays refused; the owned client is quit on shutdown', async () => {
    const before = await clientCount(admin);
    const { app, url } = await startApp({ redis: { url: redis.url, timeoutMs: 500 } });
    let closed = false;
    try {
      const store = app.get<NonceStore>(NONCE_STORE);
      expect(store).toBeInstanceOf(RedisNonceStore);
      expect(store).toMatchObject({ namespace: 'inventory-service', keyPrefix: 'nest-service-auth:nonce:', timeoutMs: 500 });

      const headers = signedHeaders(url, orderSigning, { method: 'GET', path: '/probe' });
      const first = await rawRequest(url, { method: 'GET', path: '/probe', headers });
      expect(first.status).toBe(200);
      const nonce = /;nonce="([^"]+)"/.exec(headers['signature-input'])![1];
      await expect(admin.exists(`nest-service-auth:nonce:inventory-service:order-service:${ORDER.id}:${nonce}`)).resolves.toBe(1);

      const replay = await rawRequest(url, { method: 'GET', path: '/probe', headers });
      expect(replay.status).toBe(401);
      expect(replay.json).toMatchObject({ reason: 'nonce_replayed' });
      expect(await clientCount(admin)).toBe(before + 1);

      await app.close();
      closed = true;
      expect(await clientCount(admin)).toBe(before);
      await expect(store.claim({ callerId: 'order-service', keyId: ORDER.id, nonce: 'after-close' }, Date.now() + 1000)).rejects.toThrow(
        /closed/,
      );
    } finally {
      if (!closed) await app.close();
    }
  });

  it('replay.redis.client: used with a custom key prefix, and never closed by the module', async () => {
    const client = new Redis(redis.url);
    try {
      const { app, url } = await startApp({ redis: { client, keyPrefix: 'svc-nonces:' } });
      try {
        expect((await get(url)).status).toBe(200);
        const keys = await admin.keys('svc-nonces:inventory-service:order-service:*');
        expect(keys).toHaveLength(1);
      } finally {
        await app.close();
      }
      expect(client.status).toBe('ready');
      await expect(client.ping()).resolves.toBe('PONG');
    } finally {
      await client.quit();
    }
  });

  it('a request signed for another service is 401 audience_mismatch and writes nothing to Redis', async () => {
    const { app, url } = await startApp({ redis: { url: redis.url, keyPrefix: 'audience-probe:' } });
    try {
      const headers = signedHeaders(url, { ...orderSigning, audience: 'billing-service' }, { method: 'GET', path: '/probe' });
      const answer = await rawRequest(url, { method: 'GET', path: '/probe', headers });
      expect(answer.status).toBe(401);
      expect(answer.json).toMatchObject({ reason: 'audience_mismatch' });
      await expect(admin.keys('audience-probe:*')).resolves.toEqual([]);
      expect((await get(url)).status).toBe(200);
      // One accepted request: its nonce, and the caller's budget that counts it.
      const keys = (await admin.keys('audience-probe:*')).sort();
      expect(keys).toEqual([
        `audience-probe:inventory-service:order-service`,
        expect.stringMatching(/^audience-probe:inventory-service:order-service:[^:]+:.+$/),
      ]);
    } finally {
      await app.close();
    }
  });

  it('Redis unreachable: 503 replay_store_unavailable with nothing about Redis in the body; errors logged without the password', async () => {
    const deadPort = await findFreePort();
    const password = 'n0t-In-L0gs-' + randomBytes(6).toString('hex');
    const logger = new CapturingLogger();
    const started = Date.now();
    const { app, url } = await startApp({ redis: { url: `redis://svc:${password}@127.0.0.1:${deadPort}/0` } }, logger);
    try {
      const answer = await get(url);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(answer.status).toBe(503);
      expect(answer.json).toEqual({
        statusCode: 503,
        error: 'Service Unavailable',
        reason: 'replay_store_unavailable',
        message: 'Replay protection is temporarily unavailable',
      });
      for (const leak of [/redis/i, String(deadPort), '127.0.0.1', password, 'svc', /ECONN/]) {
        if (typeof leak === 'string') expect(answer.text).not.toContain(leak);
        else expect(answer.text).not.toMatch(leak);
      }
      const log = JSON.stringify(logger.lines);
      expect(log).not.toContain(password);
      expect(logger.lines).toEqual(
        expect.arrayContaining([
          { level: 'error', message: expect.objectContaining({ event: 'replay_store_error' }) },
          {
            level: 'error',
            message: expect.objectContaining({ event: 'service_auth_rejected', reason: 'replay_store_unavailable', status: 503 }),
          },
        ]),
      );
    } finally {
      await app.close();
    }
  });

  it('replay.store and replay.redis together: the application does not start, and the error names both settings', async () => {
    const error = await createServiceApp(appModule({ store: new MemoryNonceStore(), redis: { url: redis.url } }), { logger: false }).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(error?.message).toMatch(/replay\.store/);
    expect(error?.message).toMatch(/replay\.redis/);
  });

  it('no replay settings: in memory, with replay.maxNoncesPerCaller; replay.store: that instance', () => {
    const base: ServiceAuthModuleOptions = { serviceId: 'inventory-service' };
    expect(createNonceStore(resolveOptions(base))).toBeInstanceOf(MemoryNonceStore);
    expect(createNonceStore(resolveOptions(base))).toMatchObject({ maxNoncesPerCaller: 1_000_000 });
    expect(createNonceStore(resolveOptions({ ...base, replay: { maxNoncesPerCaller: 7 } }))).toMatchObject({ maxNoncesPerCaller: 7 });
    const store = new MemoryNonceStore();
    expect(createNonceStore(resolveOptions({ ...base, replay: { store } }))).toBe(store);
  });
});

describe('validateOptions: replay store settings', () => {
  const base: ServiceAuthModuleOptions = { serviceId: 'inventory-service' };
  const messageOf = (replay: unknown) => {
    try {
      validateOptions({ ...base, replay } as ServiceAuthModuleOptions);
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error(`accepted ${JSON.stringify(replay)}`);
  };

  it('accepts url or client, with keyPrefix and timeoutMs', () => {
    expect(() => validateOptions({ ...base, replay: { redis: { url: 'redis://127.0.0.1:6379' } } })).not.toThrow();
    expect(() =>
      validateOptions({ ...base, replay: { redis: { url: 'rediss://u:p@cache:6380/2', keyPrefix: 'x:', timeoutMs: 100 } } }),
    ).not.toThrow();
    expect(() => validateOptions({ ...base, replay: { redis: { client: { set: () => undefined } as never } } })).not.toThrow();
  });

  it('names the setting, never the URL (it may carry a password)', () => {
    expect(messageOf({ store: new MemoryNonceStore(), redis: { url: 'redis://x' } })).toBe(
      'ServiceAuthModule: set either replay.store or replay.redis, not both',
    );
    expect(messageOf({ redis: {} })).toContain(
      'exactly one of replay.redis.url, replay.redis.client, replay.redis.cluster or replay.redis.sentinel',
    );
    expect(messageOf({ redis: { url: 'redis://x', client: { set() {} } } })).toContain('exactly one of');
    const bad = messageOf({ redis: { url: 'http://user:hunter2@cache:6379' } });
    expect(bad).toContain('replay.redis.url must be a redis:// or rediss:// URL');
    expect(bad).not.toContain('hunter2');
    expect(messageOf({ redis: 'redis://x' })).toContain('replay.redis must be an object');
    expect(messageOf({ redis: { client: {} } })).toContain('replay.redis.client must be an ioredis client');
    expect(messageOf({ redis: { url: 'redis://x', timeoutMs: 0 } })).toContain('replay.redis.timeoutMs must be a positive integer');
    expect(messageOf({ redis: { url: 'redis://x', keyPrefix: 5 } })).toContain('replay.redis.keyPrefix must be a string');
    expect(messageOf({ store: {} })).toContain('replay.store must be a NonceStore');
  });
});

describe('storeErrorLogger', () => {
  it('logs a repeated message at most once per interval, a new message at once', () => {
    const lines: unknown[] = [];
    let now = 0;
    const log = storeErrorLogger({ error: (m: unknown) => void lines.push(m) } as never, () => now);
    log(new Error('connect ECONNREFUSED'));
    now += 1000;
    log(new Error('connect ECONNREFUSED'));
    log(new Error('read ECONNRESET'));
    now += STORE_ERROR_LOG_INTERVAL_MS;
    log(new Error('read ECONNRESET'));
    expect(lines).toEqual([
      { event: 'replay_store_error', message: 'connect ECONNREFUSED' },
      { event: 'replay_store_error', message: 'read ECONNRESET' },
      { event: 'replay_store_error', message: 'read ECONNRESET' },
    ]);
  });
});
