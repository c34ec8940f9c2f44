/**
 * What every Redis-backed store of the library promises through NamespacedRedisStore, as one suite
 * that each store runs (redis/redis-nonce-store.integration.spec.ts, redis/redis-throttler.storage.integration.spec.ts):
 * an injected client is never closed, an owned one is, and the store fails closed, without the URL's
 * password, while Redis cannot answer; it answers again once Redis is back. That a refusal comes
 * within `timeoutMs` is the deadline of RedisConnection.run, tested on a simulated clock
 * (redis/redis-connection.spec.ts): nothing here is timed; a hang would fail on Jest's timeout.
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

/** Errors reported through `onError`, and a way to wait for the next one. */
function errorLog(): { errors: Error[]; onError: (err: Error) => void; next: () => Promise<Error> } {
  const errors: Error[] = [];
  let waiting: Array<(err: Error) => void> = [];
  return {
    errors,
    onError: (err) => {
      errors.push(err);
      for (const resolve of waiting) resolve(err);
      waiting = [];
    },
    next: () => new Promise((resolve) => waiting.push(resolve)),
  };
}

export function describeNamespacedRedisStore<S extends NamespacedRedisStore>(name: string, subject: RedisStoreUnderTest<S>): void {
  describe(`${name}: the NamespacedRedisStore contract (real redis-server)`, () => {
    let redis: RedisServerHandle;
    const stores: S[] = [];
    const track = (store: S) => {
      stores.push(store);
      return store;
    };

    /** The rejection of `operation`, which must be the store's unavailable error. */
    async function refusal(operation: Promise<unknown>): Promise<Error> {
      const error = await operation.then(
        (value) => {
          throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
        },
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(subject.unavailable.type);
      expect((error as Error).message).toMatch(subject.unavailable.message);
      return error as Error;
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

    it("fails closed, without the URL's password, when Redis is unreachable at startup", async () => {
      const deadPort = await findFreePort();
      const log = errorLog();
      const firstError = log.next();
      const store = track(
        subject.create({
          url: `redis://user:s3cret-Pa55@127.0.0.1:${deadPort}`,
          namespace: 'startup',
          timeoutMs: TIMEOUT_MS,
          onError: log.onError,
        }),
      );
      const error = await refusal(subject.operate(store));
      expect(error.message).not.toContain('s3cret-Pa55');
      await firstError;
      expect(log.errors.length).toBeGreaterThan(0);
      for (const err of log.errors) expect(err.message).not.toContain('s3cret-Pa55');
    });

    describe('outage and recovery', () => {
      let flaky: RedisServerHandle;

      beforeAll(async () => {
        flaky = await startRedisServer();
      });

      afterAll(async () => {
        await flaky?.stop();
      });

      it('refuses while Redis is down, then answers again once it is back (same store)', async () => {
        const log = errorLog();
        const store = track(subject.create({ url: flaky.url, namespace: 'outage', timeoutMs: TIMEOUT_MS, onError: log.onError }));
        await subject.operate(store);

        const lost = log.next();
        await flaky.kill();
        // Immediately after the crash (the socket may not be seen as closed yet), and once the client
        // has seen the connection fail.
        await refusal(subject.operate(store));
        await lost;
        await refusal(subject.operate(store));
        await refusal(subject.operate(store));

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
        expect(log.errors.length).toBeGreaterThan(0);
      });
    });
  });
}
