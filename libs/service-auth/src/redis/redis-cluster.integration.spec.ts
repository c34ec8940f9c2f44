/**
 * RedisNonceStore and RedisThrottlerStorage on a real Redis Cluster (three masters, three replicas):
 * a claim's keys share one hash slot (no CROSSSLOT), callers spread over the shards, and the stores
 * work from connection options or from an injected ioredis Cluster.
 */
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Cluster } from 'ioredis';

import { startRedisCluster, type RedisClusterHandle } from '../../../../test/support/redis-cluster.js';
import { NonceBudgetExhaustedError } from '../errors/nonce-budget-exhausted.error.js';
import { RedisNonceStore } from './redis-nonce-store.js';
import { RedisThrottlerStorage } from './redis-throttler.storage.js';

const MINUTE = 60_000;

describe('Redis stores on a Redis Cluster', () => {
  let cluster: RedisClusterHandle;
  let injected: Cluster;
  const closers: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    cluster = await startRedisCluster();
    injected = new Cluster(cluster.nodes, { enableOfflineQueue: true });
    injected.on('error', () => undefined);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(closers.splice(0).map((close) => close()));
    injected?.disconnect();
    await cluster?.stop();
  });

  const claimOf = (callerId: string) => ({ callerId, keyId: 'k1', nonce: randomUUID() });
  const expiry = () => Date.now() + MINUTE;

  function nonceStores(maxNoncesPerCaller = 1000): RedisNonceStore[] {
    const fromOptions = new RedisNonceStore({
      cluster: { nodes: cluster.nodes },
      namespace: 'inventory-service',
      maxNoncesPerCaller,
      timeoutMs: 2000,
    });
    const fromClient = new RedisNonceStore({ client: injected, namespace: 'inventory-service', maxNoncesPerCaller, timeoutMs: 2000 });
    closers.push(
      () => fromOptions.close(),
      () => fromClient.close(),
    );
    return [fromOptions, fromClient];
  }

  it('a nonce is accepted once, whichever store (options or injected Cluster) sees it first', async () => {
    const [a, b] = nonceStores();
    for (const [first, second] of [
      [a, b],
      [b, a],
    ]) {
      const claim = claimOf('order-service');
      await expect(first.claim(claim, expiry())).resolves.toBe(true);
      await expect(second.claim(claim, expiry())).resolves.toBe(false);
      await expect(first.claim(claim, expiry())).resolves.toBe(false);
    }
  });

  it("a caller's nonce key and budget key share a hash tag; callers land on every shard", async () => {
    const [store] = nonceStores();
    const tag = (key: string) => /\{([^}]*)\}/.exec(key)?.[1];
    const claim = claimOf('order-service');
    expect(tag(store.keyFor(claim))).toBe(tag(store.budgetKeyFor('order-service')));
    const masters = new Set<number>();
    for (let i = 0; i < 30; i++) {
      const callerId = `caller-${i}`;
      await expect(store.claim(claimOf(callerId), expiry())).resolves.toBe(true);
      masters.add(await cluster.masterPortOf(store.budgetKeyFor(callerId)));
    }
    expect(masters.size).toBe(3);
  });

  it('the per-caller budget is counted over both stores, for that caller only', async () => {
    const [a, b] = nonceStores(4);
    const greedy = `greedy-${randomUUID()}`;
    for (let i = 0; i < 4; i++) await expect((i % 2 ? a : b).claim(claimOf(greedy), expiry())).resolves.toBe(true);
    await expect(a.claim(claimOf(greedy), expiry())).rejects.toBeInstanceOf(NonceBudgetExhaustedError);
    await expect(b.claim(claimOf(greedy), expiry())).rejects.toBeInstanceOf(NonceBudgetExhaustedError);
    await expect(b.claim(claimOf(`polite-${randomUUID()}`), expiry())).resolves.toBe(true);
  });

  it('the throttler storage counts one caller over both clients, in one slot', async () => {
    const fromOptions = new RedisThrottlerStorage({ cluster: { nodes: cluster.nodes }, namespace: 'inventory-service', timeoutMs: 2000 });
    const fromClient = new RedisThrottlerStorage({ client: injected, namespace: 'inventory-service', timeoutMs: 2000 });
    closers.push(
      () => fromOptions.close(),
      () => fromClient.close(),
    );
    const key = `order-service-${randomUUID()}`;
    const records = [];
    for (let i = 0; i < 4; i++) records.push(await (i % 2 ? fromOptions : fromClient).increment(key, MINUTE, 3, MINUTE, 'default'));
    expect(records.map((r) => [r.totalHits, r.isBlocked])).toEqual([
      [1, false],
      [2, false],
      [3, false],
      [4, true],
    ]);
  });

  it('waitForReplicas: a claim counts once a replica has it (WAIT on the master of its slot)', async () => {
    const store = new RedisNonceStore({
      cluster: { nodes: cluster.nodes },
      namespace: 'inventory-service',
      timeoutMs: 2000,
      waitForReplicas: { replicas: 1, timeoutMs: 1000 },
    });
    closers.push(() => store.close());
    for (let i = 0; i < 10; i++) {
      const claim = claimOf(`caller-${i}`);
      await expect(store.claim(claim, expiry())).resolves.toBe(true);
      await expect(store.claim(claim, expiry())).resolves.toBe(false);
    }
  });
});
