/**
 * Several inventory-service instances behind one real redis-server (REDIS_URL): replay protection
 * and per-caller rate limits hold across replicas, a Redis crash fails closed (503, bounded time),
 * and the instances recover on their own once Redis is back.
 *
 * Each instance keeps its own stock in memory (stock is not what is tested here) and
 * ENCRYPTION_POLICY=optional. Requests are signed by hand with
 * order-service's credential; the signed URL's host does not matter (@authority is not covered), the
 * path does. One instance runs on Express, the other on Fastify.
 *
 * Per-caller isolation needs a route that two callers may use, and the inventory's only throttled
 * controller trusts order-service alone. So the rate-limit pair mounts one extra controller, trusted
 * by order-service and audit-service, NEXT TO the unchanged inventory AppModule: same
 * ThrottlerModule settings from the environment, same Redis storage, same guards. The inventory's
 * own route and trust rules stay as deployed.
 *
 * Needs redis-server (fails, never skips, when it is missing).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, UseGuards, type INestApplication } from '@nestjs/common';
import { Redis } from 'ioredis';
import { Caller, TrustedCaller, type VerifiedCaller } from 'nest-service-auth';
import type { HmacSigningCredential } from 'nest-service-auth/core';
import { CallerThrottlerGuard } from 'nest-service-auth/throttler';
import { AppModule } from '../apps/inventory-service/src/app.module.js';
import { createInventoryApp } from '../apps/inventory-service/src/inventory-app.js';
import { keyList, newCredential, type TestCredential } from './support/credentials.js';
import { listenUrl, type Adapter } from './support/demo-services.js';
import { jsonObject, rawRequest, reasonOf, signedHeaders, signingCredential, type RawResponse } from './support/raw-http.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { createServiceApp } from 'service-app';

interface Replica {
  app: INestApplication;
  url: string;
  adapter: Adapter;
}

const STOCK_PATH = '/api/inventory/P123';
const REFUSAL_KEYS = ['error', 'message', 'reason', 'statusCode'];
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

@Controller('probe')
@TrustedCaller('order-service', 'audit-service')
@UseGuards(CallerThrottlerGuard)
class ProbeController {
  @Get()
  whoami(@Caller() caller: VerifiedCaller) {
    return { caller: caller.id };
  }
}

describe('inventory-service replicas sharing one Redis', () => {
  let redis: RedisServerHandle;
  let admin: Redis;
  let orderKey: TestCredential;
  let auditKey: TestCredential;
  let order: HmacSigningCredential;
  let audit: HmacSigningCredential;
  const replicas: Replica[] = [];

  /** Redis database 0 for the replay pair, 1 for the rate-limit pair: both are "inventory-service" and would share counters. */
  function env(extra: Record<string, string>, db = 0): Record<string, string> {
    return {
      SERVICE_AUTH_CALLERS: 'order-service,audit-service',
      SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS: keyList(orderKey),
      SERVICE_AUTH_CALLER_AUDIT_SERVICE_KEYS: keyList(auditKey),
      INVENTORY_STOCK_STORE: 'memory',
      ENCRYPTION_POLICY: 'optional',
      REDIS_URL: `${redis.url}/${db}`,
      ...extra,
    };
  }

  /** The inventory service as deployed (createInventoryApp), listening on a free port. */
  async function startInventory(adapter: Adapter, extra: Record<string, string>): Promise<Replica> {
    const app = await createInventoryApp({ adapter, logger: false, env: env(extra) });
    const replica = { app, adapter, url: await listenUrl(app) };
    replicas.push(replica);
    return replica;
  }

  /** The inventory AppModule, unchanged, plus ProbeController (trusted by two callers). */
  async function startInventoryWithProbe(adapter: Adapter, extra: Record<string, string>): Promise<Replica> {
    @Module({ imports: [AppModule.forRoot(env(extra, 1))], controllers: [ProbeController] })
    class InventoryWithProbe {}
    const app = await createServiceApp(InventoryWithProbe, { adapter, logger: false });
    const replica = { app, adapter, url: await listenUrl(app) };
    replicas.push(replica);
    return replica;
  }

  /** Fresh signature (fresh nonce) for GET `path`. */
  const sign = (credential: HmacSigningCredential, path = STOCK_PATH) =>
    signedHeaders('http://inventory.internal', credential, { method: 'GET', path });

  const send = (replica: Replica, headers: Record<string, string>, path = STOCK_PATH, localAddress?: string) =>
    rawRequest(replica.url, { method: 'GET', path, headers, localAddress, timeoutMs: 5000 });

  function expectRefusal(res: RawResponse, status: number, reason: string): void {
    expect({ status: res.status, reason: reasonOf(res) }).toEqual({ status, reason });
    expect(Object.keys(jsonObject(res)).sort()).toEqual(REFUSAL_KEYS);
  }

  beforeAll(async () => {
    redis = await startRedisServer();
    admin = new Redis(redis.url, { maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => 100 });
    admin.on('error', () => undefined);
    orderKey = newCredential('order-2026-11');
    auditKey = newCredential('audit-2026-11');
    order = signingCredential(orderKey);
    audit = signingCredential(auditKey);
  });

  afterAll(async () => {
    await Promise.all(replicas.splice(0).map((r) => r.app.close()));
    admin?.disconnect();
    await redis?.stop();
  });

  describe('replay protection', () => {
    let a: Replica;
    let b: Replica;

    beforeAll(async () => {
      // A high limit: these tests send a few hundred requests as order-service.
      [a, b] = await Promise.all([
        startInventory('express', { RATE_LIMIT_PER_MINUTE: '100000' }),
        startInventory('fastify', { RATE_LIMIT_PER_MINUTE: '100000' }),
      ]);
    }, 90_000);

    it('both replicas answer a fresh signed request', async () => {
      for (const replica of [a, b]) {
        const res = await send(replica, sign(order));
        expect({ status: res.status, body: res.json }).toEqual({ status: 200, body: { productId: 'P123', stock: 100 } });
      }
    });

    it('a request accepted by replica A is refused by replica B as a replay (401 nonce_replayed)', async () => {
      const headers = sign(order);
      expect((await send(a, headers)).status).toBe(200);
      expectRefusal(await send(b, headers), 401, 'nonce_replayed');
      expectRefusal(await send(a, headers), 401, 'nonce_replayed');
    });

    it('and the other way round: B first, then A', async () => {
      const headers = sign(order);
      expect((await send(b, headers)).status).toBe(200);
      expectRefusal(await send(a, headers), 401, 'nonce_replayed');
    });

    it('50 concurrent copies of one signed request, split across both replicas: exactly one is accepted', async () => {
      const headers = sign(order);
      const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => send(i % 2 === 0 ? a : b, headers)));
      expect(answers.filter((r) => r.status === 200)).toHaveLength(1);
      const refused = answers.filter((r) => r.status !== 200);
      expect(refused).toHaveLength(49);
      for (const res of refused) expectRefusal(res, 401, 'nonce_replayed');
    });

    it('50 concurrent distinct signed requests across both replicas: all accepted', async () => {
      const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => send(i % 2 === 0 ? a : b, sign(order))));
      expect(answers.map((r) => r.status)).toEqual(Array(50).fill(200));
    });

    it('Redis crashes: both replicas fail closed with 503 replay_store_unavailable, without hanging, saying nothing about Redis; they recover on their own', async () => {
      await redis.kill();
      try {
        for (let round = 0; round < 3; round++) {
          for (const replica of [a, b]) {
            // A hang would end in the client's timeout (an error, not an answer); how quickly the store
            // gives up is its own contract (namespaced-redis-store-contract), not timed here.
            const res = await send(replica, sign(order));
            expectRefusal(res, 503, 'replay_store_unavailable');
            expect(res.json).toEqual({
              statusCode: 503,
              error: 'Service Unavailable',
              reason: 'replay_store_unavailable',
              message: 'Replay protection is temporarily unavailable',
            });
            const everything = res.text + JSON.stringify(res.headers);
            expect(everything).not.toMatch(/redis|ECONN|ioredis/i);
            expect(everything).not.toContain(String(redis.port));
          }
        }
      } finally {
        await redis.restart();
      }

      // Same port, empty dataset; the apps are not restarted. ioredis reconnects (backoff capped at 2 s).
      for (const replica of [a, b]) {
        const deadline = Date.now() + 10_000;
        let last: RawResponse | undefined;
        while (Date.now() < deadline) {
          last = await send(replica, sign(order));
          if (last.status === 200) break;
          expectRefusal(last, 503, 'replay_store_unavailable');
          await sleep(200);
        }
        expect(last?.status).toBe(200);
      }

      // Replay protection across replicas is back too.
      const headers = sign(order);
      expect((await send(a, headers)).status).toBe(200);
      expectRefusal(await send(b, headers), 401, 'nonce_replayed');
    }, 30_000);
  });

  describe('per-caller rate limits (RATE_LIMIT_PER_MINUTE=5, counted in Redis)', () => {
    let a: Replica;
    let b: Replica;

    beforeAll(async () => {
      [a, b] = await Promise.all([
        startInventoryWithProbe('express', { RATE_LIMIT_PER_MINUTE: '5' }),
        startInventoryWithProbe('fastify', { RATE_LIMIT_PER_MINUTE: '5' }),
      ]);
    }, 90_000);

    it("order-service's requests to both replicas, from different source IPs, share one budget: the 6th gets 429 rate_limited with Retry-After", async () => {
      for (let i = 0; i < 5; i++) {
        const res = await send(i % 2 === 0 ? a : b, sign(order), STOCK_PATH, `127.0.0.${1 + (i % 3)}`);
        expect(res.status).toBe(200);
        // One counter across replicas and addresses: the remaining budget goes down by one each time.
        expect(res.headers['x-ratelimit-remaining']).toBe(String(4 - i));
        expect(res.headers['x-ratelimit-limit']).toBe('5');
      }
      for (const [replica, ip] of [
        [b, '127.0.0.4'],
        [a, '127.0.0.5'],
      ] as const) {
        const res = await send(replica, sign(order), STOCK_PATH, ip);
        expectRefusal(res, 429, 'rate_limited');
        expect(res.json).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
        const retryAfter = Number(res.headers['retry-after']);
        expect(Number.isInteger(retryAfter)).toBe(true);
        expect(retryAfter).toBeGreaterThanOrEqual(1);
        expect(retryAfter).toBeLessThanOrEqual(60);
      }
      // The counters live in Redis, in inventory-service's namespace.
      await admin.select(1);
      const keys = await admin.keys('nest-service-auth:throttle:inventory-service:*');
      await admin.select(0);
      expect(keys.some((k) => k.endsWith(':block'))).toBe(true);
    });

    it('a different caller on the same route and from the same IP still gets through, with a budget of its own', async () => {
      // order-service first uses up its budget on the probe route, across both replicas.
      for (let i = 0; i < 5; i++) expect((await send(i % 2 === 0 ? a : b, sign(order, '/probe'), '/probe', '127.0.0.1')).status).toBe(200);
      expectRefusal(await send(a, sign(order, '/probe'), '/probe', '127.0.0.1'), 429, 'rate_limited');

      for (let i = 0; i < 5; i++) {
        const res = await send(i % 2 === 0 ? b : a, sign(audit, '/probe'), '/probe', '127.0.0.1');
        expect({ status: res.status, body: res.json }).toEqual({ status: 200, body: { caller: 'audit-service' } });
      }
      expectRefusal(await send(b, sign(audit, '/probe'), '/probe', '127.0.0.1'), 429, 'rate_limited');
    });

    it('throttling runs after authentication: a replay is refused as a replay (401), whatever the budget', async () => {
      const headers = sign(audit, '/probe');
      // audit-service is over its budget on /probe; a replay of one of its requests is still a replay first.
      expectRefusal(await send(a, headers, '/probe'), 429, 'rate_limited');
      expectRefusal(await send(b, headers, '/probe'), 401, 'nonce_replayed');
    });
  });

  it('shutting the replicas down closes every Redis connection they opened (nonce store and throttler storage)', async () => {
    const connections = async () => ((await admin.client('LIST')) as string).trim().split('\n').length;
    // 4 replicas x (nonce store + throttler storage) + this admin connection.
    expect(await connections()).toBe(replicas.length * 2 + 1);
    await Promise.all(replicas.splice(0).map((r) => r.app.close()));
    expect(await connections()).toBe(1);
  });
});
