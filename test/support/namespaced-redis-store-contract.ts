/**
 * What every Redis-backed store of the library promises through NamespacedRedisStore, as one suite
 * that each store runs (redis/redis-nonce-store.integration.spec.ts, redis/redis-throttler.storage.integration.spec.ts):
 * an injected client is never closed, an owned one is, and the store fails closed, fast and without
 * the URL's password, while Redis cannot answer; it answers again once Redis is back.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import type { NamespacedRedisStore, RedisStoreOptions } from '../../libs/service-auth/src/redis/namespaced-redis-store.js';
import { startRedisServer, type RedisServerHandle } from './redis-server.js';
import { findFreePort, sleep } from './server-process.js';

export interface RedisStoreUnderTest<S extends NamespacedRedisStore> {
  create(options: RedisStoreOptions): S;
  /** One operation that needs an answer from Redis (a claim, an increment). */
  operate(store: S): Promise<unknown>;
  /** The store's "cannot answer now" error, and how its message starts. */
  unavailable: { type: new (...args: never[]) => Error; message: RegExp };
}

const TIMEOUT_MS = 250;
/** Scheduling slack on a loaded CI machine; a hang would take the full Jest timeout instead. */
const MARGIN_MS = 250;

export function describeNamespacedRedisStore<S extends NamespacedRedisStore>(name: string, subject: RedisStoreUnderTest<S>): void {
  describe(`${name}: the NamespacedRedisStore contract (real redis-server)`, () => {
    let redis: RedisServerHandle;
    const stores: S[] = [];
    const track = (store: S) => {
      stores.push(store);
      return store;
    };

    /** The rejection of `operation`, which must be the store's unavailable error, and how long it took. */
    async function refusal(operation: Promise<unknown>): Promise<{ error: Error; elapsedMs: number }> {
      const started = Date.now();
      const error = await operation.then(
        (value) => {
          throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
        },
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(subject.unavailable.type);
      expect((error as Error).message).toMatch(subject.unavailable.message);
      return { error: error as Error, elapsedMs: Date.now() - started };
    }

    beforeAll(async () => {
      redis = await startRedisServer();
    });

    afterAll(async () => {
      await Promise.all(stores.map((store) => store.close()));
      await redis?.stop();
    });

    it('an injected client is never closed: close() leaves it ready, and the closed store refuses', async () => {
      const client = new Redis(redis.url);
      try {
        const store = subject.create({ client, namespace: 'injected', timeoutMs: TIMEOUT_MS });
        await subject.operate(store);
        await store.close();
        expect(client.status).toBe('ready');
        await expect(client.ping()).resolves.toBe('PONG');
        await refusal(subject.operate(store));
      } finally {
        await client.quit();
      }
    });

    it('close() quits an owned client, twice without harm, and the closed store refuses', async () => {
      const store = subject.create({ url: redis.url, namespace: 'owned', timeoutMs: TIMEOUT_MS });
      await subject.operate(store);
      await store.close();
      await store.close();
      await refusal(subject.operate(store));
    });

    it("fails closed, fast and without the URL's password when Redis is unreachable at startup", async () => {
      const deadPort = await findFreePort();
      const errors: Error[] = [];
      const store = track(
        subject.create({
          url: `redis://user:s3cret-Pa55@127.0.0.1:${deadPort}`,
          namespace: 'startup',
          timeoutMs: TIMEOUT_MS,
          onError: (err) => errors.push(err),
        }),
      );
      const { error, elapsedMs } = await refusal(subject.operate(store));
      expect(elapsedMs).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
      expect(error.message).not.toContain('s3cret-Pa55');
      await sleep(100);
      expect(errors.length).toBeGreaterThan(0);
      for (const err of errors) expect(err.message).not.toContain('s3cret-Pa55');
    });

    describe('outage and recovery', () => {
      let flaky: RedisServerHandle;

      beforeAll(async () => {
        flaky = await startRedisServer();
      });

      afterAll(async () => {
        await flaky?.stop();
      });

      it('refuses within timeoutMs while Redis is down, then answers again once it is back (same store)', async () => {
        const errors: Error[] = [];
        const store = track(
          subject.create({ url: flaky.url, namespace: 'outage', timeoutMs: TIMEOUT_MS, onError: (err) => errors.push(err) }),
        );
        await subject.operate(store);

        await flaky.kill();
        // Immediately after the crash (the socket may not be seen as closed yet) and a bit later.
        for (const delay of [0, 50, 300]) {
          await sleep(delay);
          const { elapsedMs } = await refusal(subject.operate(store));
          expect(elapsedMs).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
        }

        await flaky.restart();
        // The store reconnects on its own (capped backoff 2 s).
        const deadline = Date.now() + 6000;
        let recovered = false;
        while (!recovered && Date.now() < deadline) {
          recovered = await subject.operate(store).then(
            () => true,
            async (err: unknown) => {
              expect(err).toBeInstanceOf(subject.unavailable.type);
              await sleep(100);
              return false;
            },
          );
        }
        expect(recovered).toBe(true);
        expect(errors.length).toBeGreaterThan(0);
      });
    });
  });
}
