/**
 * One caller sending faster than the nonce store lets one caller go (replay.maxNoncesPerCaller) is
 * refused, alone: 429 `nonce_budget_exhausted` with `Retry-After`, while another caller of the same
 * service keeps getting 200. Real HTTP, both adapters, a deliberately tiny budget; with the in-memory
 * store, and with Redis shared by two replicas (one on each adapter), whose budget is shared too.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, type DynamicModule, type INestApplication } from '@nestjs/common';
import type { HmacSigningCredential } from 'nest-service-auth/core';
import { Caller, ServiceAuthModule, type ServiceAuthModuleOptions, type VerifiedCaller } from 'nest-service-auth';
import { newCredential, type TestCredential } from './support/credentials.js';
import { listenUrl, type Adapter } from './support/demo-services.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { jsonField, rawRequest, reasonOf, signedHeaders, signingCredential, type RawResponse } from './support/raw-http.js';
import { createServiceApp } from 'service-app';

const BUDGET = 3;
const MAX_AGE_SECONDS = 300;
const MAX_FUTURE_SKEW_SECONDS = 5;

@Controller('probe')
class ProbeController {
  @Get()
  probe(@Caller() caller: VerifiedCaller) {
    return { caller: caller.id };
  }
}

/** The service's ServiceAuthModule options: the one place that says who may call and with which budget. */
function moduleOptions(callers: Record<string, TestCredential>, redisUrl?: string): ServiceAuthModuleOptions {
  return {
    serviceId: 'inventory-service',
    keys: { callers: Object.entries(callers).map(([id, credential]) => ({ id, keys: [credential] })) },
    replay: {
      maxNoncesPerCaller: BUDGET,
      maxAgeSeconds: MAX_AGE_SECONDS,
      maxFutureSkewSeconds: MAX_FUTURE_SKEW_SECONDS,
      ...(redisUrl ? { redis: { url: redisUrl, timeoutMs: 2000 } } : {}),
    },
  };
}

async function startProbe(adapter: Adapter, options: ServiceAuthModuleOptions): Promise<INestApplication> {
  return createServiceApp(ProbeModule.with(options), { adapter, logger: false });
}

/** The 429 of a caller at its budget: the refusal shape, a Retry-After up to the window, nothing about the caller or the store. */
function expectBudgetRefusal(refused: RawResponse): void {
  expect(refused.status).toBe(429);
  expect(refused.headers['content-type']).toMatch(/^application\/json/);
  expect(refused.json).toEqual({
    statusCode: 429,
    error: 'Too Many Requests',
    reason: 'nonce_budget_exhausted',
    message: expect.stringContaining('Retry-After'),
  });
  // Room comes back when the oldest nonce expires: created + max age + 1 s from now, at most.
  const retryAfter = Number(refused.headers['retry-after']);
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(MAX_AGE_SECONDS - 60);
  expect(retryAfter).toBeLessThanOrEqual(MAX_AGE_SECONDS + MAX_FUTURE_SKEW_SECONDS + 1);
  expect(jsonField(refused, 'message')).not.toMatch(/greedy|live nonces|redis/i); // the log has the detail, the caller does not
}

@Module({})
class ProbeModule {
  static with(options: ServiceAuthModuleOptions): DynamicModule {
    return { module: ProbeModule, imports: [ServiceAuthModule.forRoot(options)], controllers: [ProbeController] };
  }
}

describe.each(['express', 'fastify'] as Adapter[])('per-caller nonce budget in memory (%s)', (adapter) => {
  const greedyKey = newCredential('greedy-2026-11');
  const politeKey = newCredential('polite-2026-11');
  let greedy: HmacSigningCredential;
  let polite: HmacSigningCredential;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    greedy = signingCredential(greedyKey);
    polite = signingCredential(politeKey);
    app = await startProbe(adapter, moduleOptions({ 'greedy-service': greedyKey, 'polite-service': politeKey }));
    url = await listenUrl(app);
  });

  afterAll(async () => {
    await app?.close();
  });

  const signedProbe = (credential: HmacSigningCredential) => signedHeaders(url, credential, { method: 'GET', path: '/probe' });
  const send = (headers: Record<string, string>): Promise<RawResponse> => rawRequest(url, { method: 'GET', path: '/probe', headers });

  it("fills one caller's budget: that caller alone is refused with 429 nonce_budget_exhausted and Retry-After; the other gets 200", async () => {
    const accepted: Record<string, string>[] = [];
    for (let i = 0; i < BUDGET; i++) {
      const headers = signedProbe(greedy);
      const res = await send(headers);
      expect([res.status, res.json]).toEqual([200, { caller: 'greedy-service' }]);
      accepted.push(headers);
    }

    expectBudgetRefusal(await send(signedProbe(greedy)));

    for (let i = 0; i < BUDGET; i++) {
      const res = await send(signedProbe(polite));
      expect([res.status, res.json]).toEqual([200, { caller: 'polite-service' }]);
    }

    // The full caller's live nonces are all still remembered: a replay is a replay, not a budget refusal.
    for (const headers of accepted) {
      const replay = await send(headers);
      expect([replay.status, reasonOf(replay)]).toEqual([401, 'nonce_replayed']);
    }
    // And the polite caller, now at its own budget, is refused in its turn.
    expect(reasonOf(await send(signedProbe(polite)))).toBe('nonce_budget_exhausted');
  });
});

describe('per-caller nonce budget in Redis, shared by two replicas (Express and Fastify)', () => {
  const greedyKey = newCredential('greedy-2026-11');
  const politeKey = newCredential('polite-2026-11');
  let greedy: HmacSigningCredential;
  let polite: HmacSigningCredential;
  let redis: RedisServerHandle;
  const replicas: INestApplication[] = [];
  const urls: string[] = [];

  beforeAll(async () => {
    greedy = signingCredential(greedyKey);
    polite = signingCredential(politeKey);
    redis = await startRedisServer();
    for (const adapter of ['express', 'fastify'] as Adapter[]) {
      const app = await startProbe(adapter, moduleOptions({ 'greedy-service': greedyKey, 'polite-service': politeKey }, redis.url));
      replicas.push(app);
      urls.push(await listenUrl(app));
    }
  });

  afterAll(async () => {
    for (const app of replicas) await app.close();
    await redis?.stop();
  });

  /** Signed for replica `i` (the signature covers no authority: any replica accepts it), sent to replica `i`. */
  const signedProbe = (credential: HmacSigningCredential, i: number) =>
    signedHeaders(urls[i], credential, { method: 'GET', path: '/probe' });
  const send = (i: number, headers: Record<string, string>): Promise<RawResponse> =>
    rawRequest(urls[i], { method: 'GET', path: '/probe', headers });

  it("one caller's requests spread over both replicas fill one budget: it alone gets 429 on either replica; the other caller gets 200 on both", async () => {
    const accepted: Array<{ replica: number; headers: Record<string, string> }> = [];
    for (let i = 0; i < BUDGET; i++) {
      const replica = i % 2;
      const headers = signedProbe(greedy, replica);
      const res = await send(replica, headers);
      expect([res.status, res.json]).toEqual([200, { caller: 'greedy-service' }]);
      accepted.push({ replica, headers });
    }

    expectBudgetRefusal(await send(0, signedProbe(greedy, 0)));
    expectBudgetRefusal(await send(1, signedProbe(greedy, 1)));

    for (let i = 0; i < BUDGET; i++) {
      const res = await send(i % 2, signedProbe(polite, i % 2));
      expect([res.status, res.json]).toEqual([200, { caller: 'polite-service' }]);
    }

    // The full caller's nonces are all still remembered, by both replicas: a replay is a replay.
    for (const { replica, headers } of accepted) {
      const replay = await send(1 - replica, headers);
      expect([replay.status, reasonOf(replay)]).toEqual([401, 'nonce_replayed']);
    }
    expect(reasonOf(await send(0, signedProbe(polite, 0)))).toBe('nonce_budget_exhausted');
  });
});
