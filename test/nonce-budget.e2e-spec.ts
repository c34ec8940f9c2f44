/**
 * One caller sending faster than the in-memory nonce store lets one caller go (replay.maxNoncesPerCaller)
 * is refused, alone: 429 `nonce_budget_exhausted` with `Retry-After`, while another caller of the same
 * service keeps getting 200. Real HTTP, both adapters, a deliberately tiny budget.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, type DynamicModule, type INestApplication } from '@nestjs/common';
import type { SigningCredential } from 'nest-service-auth/core';
import { Caller, ServiceAuthModule, type ServiceAuthModuleOptions, type VerifiedCaller } from 'nest-service-auth';
import { newCredential, type TestCredential } from './support/credentials.js';
import { listenUrl, type Adapter } from './support/demo-services.js';
import { rawRequest, signedHeaders, signingCredential, type RawResponse } from './support/raw-http.js';
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
function moduleOptions(callers: Record<string, TestCredential>): ServiceAuthModuleOptions {
  return {
    serviceId: 'inventory-service',
    keys: { callers: Object.entries(callers).map(([id, credential]) => ({ id, keys: [credential] })) },
    replay: { maxNoncesPerCaller: BUDGET, maxAgeSeconds: MAX_AGE_SECONDS, maxFutureSkewSeconds: MAX_FUTURE_SKEW_SECONDS },
  };
}

@Module({})
class ProbeModule {
  static with(options: ServiceAuthModuleOptions): DynamicModule {
    return { module: ProbeModule, imports: [ServiceAuthModule.forRoot(options)], controllers: [ProbeController] };
  }
}

describe.each(['express', 'fastify'] as Adapter[])('per-caller nonce budget (%s)', (adapter) => {
  const greedyKey = newCredential('greedy-2026-11');
  const politeKey = newCredential('polite-2026-11');
  let greedy: SigningCredential;
  let polite: SigningCredential;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    greedy = signingCredential(greedyKey);
    polite = signingCredential(politeKey);
    app = await createServiceApp(ProbeModule.with(moduleOptions({ 'greedy-service': greedyKey, 'polite-service': politeKey })), { adapter, logger: false });
    url = await listenUrl(app);
  });

  afterAll(async () => {
    await app?.close();
  });

  const signedProbe = (credential: SigningCredential) => signedHeaders(url, credential, { method: 'GET', path: '/probe' });
  const send = (headers: Record<string, string>): Promise<RawResponse> => rawRequest(url, { method: 'GET', path: '/probe', headers });

  it('fills one caller\'s budget: that caller alone is refused with 429 nonce_budget_exhausted and Retry-After; the other gets 200', async () => {
    const accepted: Record<string, string>[] = [];
    for (let i = 0; i < BUDGET; i++) {
      const headers = signedProbe(greedy);
      const res = await send(headers);
      expect([res.status, res.json]).toEqual([200, { caller: 'greedy-service' }]);
      accepted.push(headers);
    }

    const refused = await send(signedProbe(greedy));
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
    expect(refused.json.message).not.toMatch(/greedy|live nonces/); // the log has the detail, the caller does not

    for (let i = 0; i < BUDGET; i++) {
      const res = await send(signedProbe(polite));
      expect([res.status, res.json]).toEqual([200, { caller: 'polite-service' }]);
    }

    // The full caller's live nonces are all still remembered: a replay is a replay, not a budget refusal.
    for (const headers of accepted) {
      const replay = await send(headers);
      expect([replay.status, replay.json?.reason]).toEqual([401, 'nonce_replayed']);
    }
    // And the polite caller, now at its own budget, is refused in its turn.
    expect((await send(signedProbe(polite))).json?.reason).toBe('nonce_budget_exhausted');
  });
});
