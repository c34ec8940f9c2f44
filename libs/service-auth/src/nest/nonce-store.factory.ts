import { Logger } from '@nestjs/common';
import { MemoryNonceStore } from '../replay/memory-nonce-store.js';
import type { NonceStore } from '../replay/nonce-store.interface.js';
import { RedisNonceStore } from '../redis/redis-nonce-store.js';
import type { RedisClient } from '../redis/redis-connection.js';
import type { ResolvedServiceAuthOptions } from './options/resolved-options.js';
import { LogLine } from './logging/log-line.js';

/** The same store error is logged at most once per this interval (a dead Redis errors on every reconnect attempt). */
export const STORE_ERROR_LOG_INTERVAL_MS = 30_000;

/**
 * The module's nonce store: `replay.store` as given, a RedisNonceStore for `replay.redis`
 * (namespace = serviceId; url, cluster, sentinel or client), else a MemoryNonceStore; both with `replay.maxNoncesPerCaller`. The module closes it on shutdown; a
 * RedisNonceStore quits its client only when it created it (`url`), never an injected `client`.
 */
export function createNonceStore(options: ResolvedServiceAuthOptions): NonceStore {
  const { store, redis, maxNoncesPerCaller } = options.replay;
  if (store) return store;
  if (!redis) return new MemoryNonceStore({ maxNoncesPerCaller });
  const common = {
    namespace: options.serviceId,
    keyPrefix: redis.keyPrefix,
    timeoutMs: redis.timeoutMs,
    waitForReplicas: redis.waitForReplicas,
    maxNoncesPerCaller,
  };
  // The options describe the client by shape (IoredisClient), so that they need no ioredis types; it is an ioredis client.
  if (redis.client) return new RedisNonceStore({ ...common, client: redis.client as RedisClient });
  const onError = storeErrorLogger(new Logger('ServiceAuth'));
  if (redis.cluster) return new RedisNonceStore({ ...common, cluster: redis.cluster, onError });
  if (redis.sentinel) return new RedisNonceStore({ ...common, sentinel: redis.sentinel, onError });
  return new RedisNonceStore({ ...common, url: redis.url, onError });
}

/**
 * Logs the errors of the store's own Redis client (already stripped of the URL's password by the
 * store) as `{ event: 'replay_store_error', message }`, repeating an identical message at most once
 * per STORE_ERROR_LOG_INTERVAL_MS. Requests refused meanwhile are logged by the guard (503).
 */
export function storeErrorLogger(logger: Logger, now: () => number = Date.now): (err: Error) => void {
  let last: { message: string; at: number } | undefined;
  return (err) => {
    const at = now();
    if (last && last.message === err.message && at - last.at < STORE_ERROR_LOG_INTERVAL_MS) return;
    last = { message: err.message, at };
    logger.error(new LogLine({ event: 'replay_store_error', message: err.message }));
  };
}
