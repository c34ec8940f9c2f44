import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';

import { describeNamespacedRedisStore } from '../../../../test/support/namespaced-redis-store-contract.js';
import { startRedisServer, type RedisServerHandle } from '../../../../test/support/redis-server.js';
import { sleep } from '../../../../test/support/server-process.js';
import type { NonceClaim } from '../replay/nonce-store.interface.js';
import { RedisNonceStore } from './redis-nonce-store.js';
import { NonceBudgetExhaustedError } from '../errors/nonce-budget-exhausted.error.js';
import { ReplayStoreUnavailableError } from '../errors/replay-store-unavailable.error.js';

const TIMEOUT_MS = 250;

/** A fresh claim by order-service with key k1 (callee namespaces are set per store). */
const nonce = (callerId = 'order-service', keyId = 'k1'): NonceClaim => ({ callerId, keyId, nonce: randomUUID() });
const inOneMinute = () => Date.now() + 60_000;

/** Resolves with the rejection reason and how long it took; fails the test if the claim resolves. */
async function expectRejection(promise: Promise<unknown>): Promise<{ error: unknown; elapsedMs: number }> {
  const started = Date.now();
  try {
    const value = await promise;
    throw new Error(`expected a rejection, got ${String(value)}`);
  } catch (error) {
    return { error, elapsedMs: Date.now() - started };
  }
}

describe('RedisNonceStore (real redis-server)', () => {
  let redis: RedisServerHandle;
  let admin: Redis;
  const stores: RedisNonceStore[] = [];
  const track = (store: RedisNonceStore) => {
    stores.push(store);
    return store;
  };

  beforeAll(async () => {
    redis = await startRedisServer();
    admin = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  });

  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()));
    admin?.disconnect();
    await redis?.stop();
  });

  it('first claim of a nonce is true, the replay is false', async () => {
    const store = track(RedisNonceStore.fromUrl(redis.url, 'inventory-service', { timeoutMs: TIMEOUT_MS }));
    const key = nonce();
    await expect(store.claim(key, inOneMinute())).resolves.toBe(true);
    await expect(store.claim(key, inOneMinute())).resolves.toBe(false);
  });

  it('stores the key under `${keyPrefix}${namespace}:${callerId}:${keyId}:${nonce}` with a PX expiry', async () => {
    const store = track(new RedisNonceStore({ url: redis.url, namespace: 'inventory-service', timeoutMs: TIMEOUT_MS }));
    const key = nonce();
    await store.claim(key, Date.now() + 30_000);
    const redisKey = `nest-service-auth:nonce:inventory-service:order-service:k1:${key.nonce}`;
    expect(store.keyFor(key)).toBe(redisKey);
    await expect(admin.get(redisKey)).resolves.toBe('1');
    const pttl = await admin.pttl(redisKey);
    expect(pttl).toBeGreaterThan(25_000);
    expect(pttl).toBeLessThanOrEqual(30_000);

    const custom = track(new RedisNonceStore({ client: admin, namespace: 'svc', keyPrefix: 'p:' }));
    await custom.claim(key, inOneMinute());
    await expect(admin.exists(`p:svc:order-service:k1:${key.nonce}`)).resolves.toBe(1);
  });

  it('the same nonce from another caller or under another key id is another claim', async () => {
    const store = track(RedisNonceStore.fromUrl(redis.url, 'callers', { timeoutMs: TIMEOUT_MS }));
    const { nonce: shared } = nonce();
    await expect(store.claim({ callerId: 'order-service', keyId: 'k1', nonce: shared }, inOneMinute())).resolves.toBe(true);
    await expect(store.claim({ callerId: 'order-service', keyId: 'k2', nonce: shared }, inOneMinute())).resolves.toBe(true);
    await expect(store.claim({ callerId: 'billing-service', keyId: 'k1', nonce: shared }, inOneMinute())).resolves.toBe(true);
    await expect(store.claim({ callerId: 'billing-service', keyId: 'k1', nonce: shared }, inOneMinute())).resolves.toBe(false);
  });

  it('refuses claims whose ids could alias another key, before any round trip', async () => {
    const store = track(new RedisNonceStore({ client: admin, namespace: 'aliases' }));
    for (const claim of [
      { callerId: 'a:b', keyId: 'k1', nonce: 'n' },
      { callerId: 'a', keyId: 'b:k1', nonce: 'n' },
      { callerId: '', keyId: 'k1', nonce: 'n' },
      { callerId: 'a', keyId: 'k1', nonce: '' },
    ]) {
      await expect(store.claim(claim, inOneMinute())).rejects.toThrow(TypeError);
    }
    await expect(admin.keys('nest-service-auth:nonce:aliases:*')).resolves.toEqual([]);
  });

  it('two callee namespaces sharing one Redis never collide', async () => {
    const a = track(RedisNonceStore.fromUrl(redis.url, 'svc-a', { timeoutMs: TIMEOUT_MS }));
    const b = track(RedisNonceStore.fromUrl(redis.url, 'svc-b', { timeoutMs: TIMEOUT_MS }));
    const key = nonce();
    await expect(a.claim(key, inOneMinute())).resolves.toBe(true);
    await expect(b.claim(key, inOneMinute())).resolves.toBe(true);
    await expect(a.claim(key, inOneMinute())).resolves.toBe(false);
    await expect(b.claim(key, inOneMinute())).resolves.toBe(false);
  });

  it('rejects namespaces that could alias another namespace', () => {
    expect(() => new RedisNonceStore({ client: admin, namespace: 'a:b' })).toThrow(TypeError);
    expect(() => new RedisNonceStore({ client: admin, namespace: '' })).toThrow(TypeError);
  });

  it('a nonce can be claimed again once it has expired', async () => {
    const store = track(RedisNonceStore.fromUrl(redis.url, 'expiry', { timeoutMs: TIMEOUT_MS }));
    const key = nonce();
    await expect(store.claim(key, Date.now() + 300)).resolves.toBe(true);
    await expect(store.claim(key, Date.now() + 300)).resolves.toBe(false);
    await sleep(500);
    await expect(store.claim(key, Date.now() + 300)).resolves.toBe(true);
  });

  it('an expiry already in the past still records the nonce (ttl floor of 1 ms)', async () => {
    const store = track(RedisNonceStore.fromUrl(redis.url, 'past', { timeoutMs: TIMEOUT_MS }));
    await expect(store.claim(nonce(), Date.now() - 10_000)).resolves.toBe(true);
  });

  it('200 concurrent claims of one nonce across two replicas (two clients): exactly one wins', async () => {
    const replica1 = track(RedisNonceStore.fromUrl(redis.url, 'shared-callee', { timeoutMs: 2000 }));
    const replica2 = track(RedisNonceStore.fromUrl(redis.url, 'shared-callee', { timeoutMs: 2000 }));
    const key = nonce();
    const expiresAt = inOneMinute();
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? replica1 : replica2).claim(key, expiresAt)));
    expect(results.filter((won) => won)).toHaveLength(1);
    expect(results.filter((won) => !won)).toHaveLength(199);
  });

  describe('per-caller budget (maxNoncesPerCaller)', () => {
    const BUDGET = 3;
    const budgeted = (namespace: string, client: Redis | undefined = undefined) =>
      track(
        client
          ? new RedisNonceStore({ client, namespace, maxNoncesPerCaller: BUDGET, timeoutMs: 2000 })
          : new RedisNonceStore({ url: redis.url, namespace, maxNoncesPerCaller: BUDGET, timeoutMs: 2000 }),
      );

    async function budgetRefusal(promise: Promise<unknown>): Promise<NonceBudgetExhaustedError> {
      const { error } = await expectRejection(promise);
      expect(error).toBeInstanceOf(NonceBudgetExhaustedError);
      return error as NonceBudgetExhaustedError;
    }

    it('a caller at its budget is refused (NonceBudgetExhaustedError, with when room comes back); another caller is not', async () => {
      const store = budgeted('budget-basic');
      const expiresAt = Date.now() + 60_000;
      const accepted = [];
      for (let i = 0; i < BUDGET; i++) {
        const claim = nonce('greedy-service');
        await expect(store.claim(claim, expiresAt)).resolves.toBe(true);
        accepted.push(claim);
      }
      const refusal = await budgetRefusal(store.claim(nonce('greedy-service'), expiresAt));
      expect({ callerId: refusal.callerId, budget: refusal.budget }).toEqual({ callerId: 'greedy-service', budget: BUDGET });
      expect(refusal.retryAfterMs).toBeGreaterThan(50_000);
      expect(refusal.retryAfterMs).toBeLessThanOrEqual(60_000);
      // Another caller has a budget of its own.
      for (let i = 0; i < BUDGET; i++) await expect(store.claim(nonce('polite-service'), expiresAt)).resolves.toBe(true);
      // At its budget, a replay is still a replay, and a refused nonce was not recorded.
      for (const claim of accepted) await expect(store.claim(claim, expiresAt)).resolves.toBe(false);
      await expect(admin.keys('nest-service-auth:nonce:budget-basic:greedy-service:*')).resolves.toHaveLength(BUDGET);
    });

    it('two replicas (two clients) share one budget per caller', async () => {
      const replica1 = budgeted('budget-replicas');
      const replica2 = budgeted('budget-replicas');
      const expiresAt = Date.now() + 60_000;
      await expect(replica1.claim(nonce(), expiresAt)).resolves.toBe(true);
      await expect(replica2.claim(nonce(), expiresAt)).resolves.toBe(true);
      await expect(replica1.claim(nonce(), expiresAt)).resolves.toBe(true);
      await budgetRefusal(replica2.claim(nonce(), expiresAt));
      await budgetRefusal(replica1.claim(nonce(), expiresAt));
    });

    it('50 concurrent distinct claims of one caller across two replicas: exactly the budget is accepted', async () => {
      const replica1 = budgeted('budget-race');
      const replica2 = budgeted('budget-race');
      const expiresAt = Date.now() + 60_000;
      const outcomes = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          (i % 2 === 0 ? replica1 : replica2).claim(nonce(), expiresAt).then(
            (fresh) => (fresh ? 'accepted' : 'replay'),
            (error: unknown) => (error instanceof NonceBudgetExhaustedError ? 'budget' : `error: ${String(error)}`),
          ),
        ),
      );
      expect(outcomes.filter((o) => o === 'accepted')).toHaveLength(BUDGET);
      expect(outcomes.filter((o) => o === 'budget')).toHaveLength(50 - BUDGET);
    });

    it('room comes back as the caller’s nonces expire', async () => {
      const store = budgeted('budget-expiry');
      for (let i = 0; i < BUDGET; i++) await expect(store.claim(nonce(), Date.now() + 300)).resolves.toBe(true);
      await budgetRefusal(store.claim(nonce(), Date.now() + 300));
      await sleep(500);
      await expect(store.claim(nonce(), Date.now() + 300)).resolves.toBe(true);
    });

    it('what the budget keeps in Redis expires with the caller’s last nonce', async () => {
      const store = budgeted('budget-keys');
      await store.claim(nonce(), Date.now() + 30_000);
      const budgetKey = store.budgetKeyFor('order-service');
      expect(budgetKey).toBe('nest-service-auth:nonce:budget-keys:order-service');
      await expect(admin.zcard(budgetKey)).resolves.toBe(1);
      const pttl = await admin.pttl(budgetKey);
      expect(pttl).toBeGreaterThan(25_000);
      expect(pttl).toBeLessThanOrEqual(30_000);
    });

    it('after Redis forgets its scripts (SCRIPT FLUSH, a restart), claims still work', async () => {
      const store = budgeted('budget-noscript', admin);
      await expect(store.claim(nonce(), inOneMinute())).resolves.toBe(true);
      await admin.script('FLUSH');
      const claim = nonce();
      await expect(store.claim(claim, inOneMinute())).resolves.toBe(true);
      await expect(store.claim(claim, inOneMinute())).resolves.toBe(false);
    });

    it('rejects a budget that is not a positive integer', () => {
      for (const maxNoncesPerCaller of [0, -1, 1.5, NaN, Infinity]) {
        expect(() => new RedisNonceStore({ client: admin, namespace: 'svc', maxNoncesPerCaller })).toThrow(RangeError);
      }
    });
  });
});

describeNamespacedRedisStore('RedisNonceStore', {
  create: (options) => new RedisNonceStore(options),
  operate: (store) => store.claim(nonce(), inOneMinute()),
  unavailable: { type: ReplayStoreUnavailableError, message: /^Replay store unavailable: / },
});
