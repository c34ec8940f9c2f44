import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';

import { describeNamespacedRedisStore } from '../../../../test/support/namespaced-redis-store-contract.js';
import { startRedisServer, type RedisServerHandle } from '../../../../test/support/redis-server.js';
import { RedisThrottlerStorage } from './redis-throttler.storage.js';
import { ThrottlerStorageUnavailableError } from '../errors/throttler-storage-unavailable.error.js';

const TIMEOUT_MS = 250;
const MINUTE = 60_000;

const key = () => randomUUID();

describe('RedisThrottlerStorage (real redis-server)', () => {
  let redis: RedisServerHandle;
  let admin: Redis;
  const storages: RedisThrottlerStorage[] = [];
  const track = (storage: RedisThrottlerStorage) => {
    storages.push(storage);
    return storage;
  };
  const newStorage = (namespace = 'inventory-service', timeoutMs = TIMEOUT_MS) =>
    track(new RedisThrottlerStorage({ url: redis.url, namespace, timeoutMs }));

  beforeAll(async () => {
    redis = await startRedisServer();
    admin = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  });

  afterAll(async () => {
    await Promise.all(storages.map((storage) => storage.close()));
    admin?.disconnect();
    await redis?.stop();
  });

  it('counts hits up to the limit, then blocks, with the throttler record in seconds', async () => {
    const storage = newStorage();
    const k = key();
    for (let hit = 1; hit <= 3; hit++) {
      const record = await storage.increment(k, MINUTE, 3, MINUTE, 'default');
      expect(record).toEqual({ totalHits: hit, timeToExpire: expect.any(Number), isBlocked: false, timeToBlockExpire: 0 });
      expect(record.timeToExpire).toBeGreaterThan(55);
      expect(record.timeToExpire).toBeLessThanOrEqual(60);
    }
    const blocked = await storage.increment(k, MINUTE, 3, 30_000, 'default');
    expect(blocked).toMatchObject({ totalHits: 4, isBlocked: true });
    expect(blocked.timeToBlockExpire).toBeGreaterThan(25);
    expect(blocked.timeToBlockExpire).toBeLessThanOrEqual(30);
    // Still blocked, and a blocked hit is not counted (as in the throttler's in-memory storage).
    await expect(storage.increment(k, MINUTE, 3, 30_000, 'default')).resolves.toMatchObject({ totalHits: 4, isBlocked: true });
  });

  it('stores `${prefix}${namespace}:{${name}:${key}}:hits` with the window as PX expiry, and a block key', async () => {
    const storage = newStorage('orders');
    const k = key();
    const keys = storage.keysFor(k, 'burst');
    expect(keys).toEqual({
      hits: `nest-service-auth:throttle:orders:{burst:${k}}:hits`,
      block: `nest-service-auth:throttle:orders:{burst:${k}}:block`,
    });
    await storage.increment(k, 30_000, 1, 10_000, 'burst');
    await expect(admin.get(keys.hits)).resolves.toBe('1');
    const pttl = await admin.pttl(keys.hits);
    expect(pttl).toBeGreaterThan(25_000);
    expect(pttl).toBeLessThanOrEqual(30_000);
    await expect(admin.exists(keys.block)).resolves.toBe(0);

    await storage.increment(k, 30_000, 1, 10_000, 'burst');
    await expect(admin.exists(keys.block)).resolves.toBe(1);
    const blockTtl = await admin.pttl(keys.block);
    expect(blockTtl).toBeGreaterThan(8_000);
    expect(blockTtl).toBeLessThanOrEqual(10_000);
    // Names with ':' or braces cannot alias another (name, key) pair.
    expect(storage.keysFor('b:c', 'a').hits).not.toBe(storage.keysFor('c', 'a:b').hits);
  });

  // Expiry is Redis's: these tests check the expiry each key is given, then remove the key as Redis
  // does when that expiry passes, instead of sleeping against it.
  const expiresWithin = async (redisKey: string, ms: number) => {
    const pttl = await admin.pttl(redisKey);
    expect({ redisKey, expires: pttl > 0 && pttl <= ms }).toEqual({ redisKey, expires: true });
  };

  it('the window expires: counting starts again at 1', async () => {
    const storage = newStorage();
    const k = key();
    const { hits, block } = storage.keysFor(k, 'default');
    await storage.increment(k, MINUTE, 5, MINUTE, 'default');
    await expect(storage.increment(k, MINUTE, 5, MINUTE, 'default')).resolves.toMatchObject({ totalHits: 2 });
    await expiresWithin(hits, MINUTE);
    await expect(admin.exists(block)).resolves.toBe(0);
    await admin.del(hits); // the window ends
    await expect(storage.increment(k, MINUTE, 5, MINUTE, 'default')).resolves.toMatchObject({ totalHits: 1, isBlocked: false });
    await expiresWithin(hits, MINUTE);
  });

  it('a block lasts blockDuration, then the caller starts a fresh window', async () => {
    const storage = newStorage();
    const k = key();
    const { hits, block } = storage.keysFor(k, 'default');
    const BLOCK_MS = 40_000;
    await expect(storage.increment(k, MINUTE, 1, BLOCK_MS, 'default')).resolves.toMatchObject({ totalHits: 1, isBlocked: false });
    const blocked = await storage.increment(k, MINUTE, 1, BLOCK_MS, 'default');
    expect(blocked).toMatchObject({ totalHits: 2, isBlocked: true, timeToBlockExpire: 40 });
    await expiresWithin(block, BLOCK_MS);
    // The counter is dropped when the block starts: the window after the block is a fresh one.
    await expect(admin.exists(hits)).resolves.toBe(0);
    await expect(storage.increment(k, MINUTE, 1, BLOCK_MS, 'default')).resolves.toMatchObject({ totalHits: 2, isBlocked: true });
    await expect(admin.exists(hits)).resolves.toBe(0);
    await admin.del(block); // the block ends
    await expect(storage.increment(k, MINUTE, 1, BLOCK_MS, 'default')).resolves.toEqual({
      totalHits: 1,
      timeToExpire: 60,
      isBlocked: false,
      timeToBlockExpire: 0,
    });
  });

  it('blockDuration 0: hits over the limit are refused until the window ends', async () => {
    const storage = newStorage();
    const k = key();
    const { hits, block } = storage.keysFor(k, 'default');
    await storage.increment(k, MINUTE, 1, 0, 'default');
    const over = await storage.increment(k, MINUTE, 1, 0, 'default');
    expect(over).toMatchObject({ totalHits: 2, isBlocked: true, timeToBlockExpire: 60 });
    await expect(admin.exists(block)).resolves.toBe(0);
    await expect(storage.increment(k, MINUTE, 1, 0, 'default')).resolves.toMatchObject({ totalHits: 3, isBlocked: true });
    await expiresWithin(hits, MINUTE);
    await admin.del(hits); // the window ends
    await expect(storage.increment(k, MINUTE, 1, 0, 'default')).resolves.toMatchObject({ totalHits: 1, isBlocked: false });
  });

  it('two storages (two replicas) on one Redis count together; 100 concurrent hits are counted exactly', async () => {
    const replica1 = newStorage('shared', 2000);
    const replica2 = newStorage('shared', 2000);
    const k = key();
    await expect(replica1.increment(k, MINUTE, 3, MINUTE, 'default')).resolves.toMatchObject({ totalHits: 1 });
    await expect(replica2.increment(k, MINUTE, 3, MINUTE, 'default')).resolves.toMatchObject({ totalHits: 2 });
    await expect(replica1.increment(k, MINUTE, 3, MINUTE, 'default')).resolves.toMatchObject({ totalHits: 3, isBlocked: false });
    await expect(replica2.increment(k, MINUTE, 3, MINUTE, 'default')).resolves.toMatchObject({ isBlocked: true });

    const burst = key();
    const records = await Promise.all(
      Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? replica1 : replica2).increment(burst, MINUTE, 1000, MINUTE, 'default')),
    );
    expect(records.map((r) => r.totalHits).sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));

    const limited = key();
    const outcomes = await Promise.all(
      Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? replica1 : replica2).increment(limited, MINUTE, 10, MINUTE, 'default')),
    );
    expect(outcomes.filter((r) => !r.isBlocked)).toHaveLength(10);
  });

  it('namespaces and throttler names keep counters apart', async () => {
    const a = newStorage('svc-a');
    const b = newStorage('svc-b');
    const k = key();
    await a.increment(k, MINUTE, 1, MINUTE, 'default');
    await expect(a.increment(k, MINUTE, 1, MINUTE, 'default')).resolves.toMatchObject({ isBlocked: true });
    await expect(b.increment(k, MINUTE, 1, MINUTE, 'default')).resolves.toMatchObject({ totalHits: 1, isBlocked: false });
    await expect(a.increment(k, MINUTE, 1, MINUTE, 'long')).resolves.toMatchObject({ totalHits: 1, isBlocked: false });
  });

  it('recovers from an empty script cache (SCRIPT FLUSH) by sending the script again', async () => {
    const storage = newStorage();
    const k = key();
    await storage.increment(k, MINUTE, 10, MINUTE, 'default');
    await admin.script('FLUSH');
    await expect(storage.increment(k, MINUTE, 10, MINUTE, 'default')).resolves.toMatchObject({ totalHits: 2 });
  });

  it('refuses bad arguments and bad options', async () => {
    const storage = newStorage();
    await expect(storage.increment('', MINUTE, 1, 0, 'default')).rejects.toThrow(TypeError);
    await expect(storage.increment(key(), 0, 1, 0, 'default')).rejects.toThrow(TypeError);
    await expect(storage.increment(key(), MINUTE, -1, 0, 'default')).rejects.toThrow(TypeError);
    await expect(storage.increment(key(), MINUTE, 1, Number.NaN, 'default')).rejects.toThrow(TypeError);
    expect(() => new RedisThrottlerStorage({ client: admin, namespace: 'a:b' })).toThrow(TypeError);
    expect(() => new RedisThrottlerStorage({ client: admin, namespace: '' })).toThrow(TypeError);
    expect(() => new RedisThrottlerStorage({ client: admin, url: redis.url, namespace: 'x' } as never)).toThrow(TypeError);
  });

  it("onApplicationShutdown (Nest's hook on ThrottlerModule's storage) closes it", async () => {
    const owned = new RedisThrottlerStorage({ url: redis.url, namespace: 'owned', timeoutMs: TIMEOUT_MS });
    await expect(owned.increment(key(), MINUTE, 5, MINUTE, 'default')).resolves.toMatchObject({ totalHits: 1 });
    await owned.onApplicationShutdown();
    await expect(owned.increment(key(), MINUTE, 5, MINUTE, 'default')).rejects.toBeInstanceOf(ThrottlerStorageUnavailableError);
  });
});

describeNamespacedRedisStore('RedisThrottlerStorage', {
  create: (options) => new RedisThrottlerStorage(options),
  operate: (storage) => storage.increment(key(), MINUTE, 5, MINUTE, 'default'),
  unavailable: { type: ThrottlerStorageUnavailableError, message: /^Rate limit store unavailable: / },
});
