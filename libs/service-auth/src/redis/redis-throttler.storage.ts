import { createHash } from 'node:crypto';
// Types only: neither package is loaded by this module (ioredis is loaded when a client is created from a URL).
import type { ThrottlerStorage } from '@nestjs/throttler';
import { DEFAULT_STORE_TIMEOUT_MS, NamespacedRedisStore, type RedisStoreOptions } from './namespaced-redis-store.js';
import { ThrottlerStorageUnavailableError } from '../errors/throttler-storage-unavailable.error.js';

/** `ThrottlerStorageRecord` (not re-exported by the package's entry point). */
type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

export const DEFAULT_THROTTLER_KEY_PREFIX = 'nest-service-auth:throttle:';
export const DEFAULT_THROTTLER_STORAGE_TIMEOUT_MS = DEFAULT_STORE_TIMEOUT_MS;

/**
 * One call = one atomic script run. KEYS[1] counts the hits of the current window, KEYS[2] marks a
 * block. ARGV: ttl (ms), limit, blockDuration (ms). Returns { totalHits, timeToExpire ms, blocked 0|1,
 * timeToBlockExpire ms }.
 *
 * - While the block key lives, the hit is refused without being counted (like @nestjs/throttler's
 *   in-memory storage); totalHits reports the count that triggered the block.
 * - Otherwise INCR; the first hit of a window (no TTL yet) sets the window's PEXPIRE (fixed window).
 * - A hit over the limit with blockDuration > 0 sets the block key for blockDuration and deletes the
 *   counter, so the caller starts a fresh window once the block ends. With blockDuration 0 the hit is
 *   refused until the window ends.
 */
const INCREMENT_SCRIPT = `
local ttl = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local blockDuration = tonumber(ARGV[3])

local blockTtl = redis.call('PTTL', KEYS[2])
if blockTtl > 0 then
  local blockedAt = tonumber(redis.call('GET', KEYS[2])) or (limit + 1)
  return { blockedAt, blockTtl, 1, blockTtl }
end

local hits = redis.call('INCR', KEYS[1])
local hitTtl = redis.call('PTTL', KEYS[1])
if hitTtl < 0 then
  redis.call('PEXPIRE', KEYS[1], ttl)
  hitTtl = ttl
end
if hits <= limit then
  return { hits, hitTtl, 0, 0 }
end
if blockDuration > 0 then
  redis.call('SET', KEYS[2], hits, 'PX', blockDuration)
  redis.call('DEL', KEYS[1])
  return { hits, blockDuration, 1, blockDuration }
end
return { hits, hitTtl, 1, hitTtl }
`;
const INCREMENT_SHA1 = createHash('sha1').update(INCREMENT_SCRIPT).digest('hex');

export type RedisThrottlerStorageOptions = RedisStoreOptions;

/**
 * A `ThrottlerStorage` for @nestjs/throttler (^6) in Redis, so that every replica of a service
 * counts a caller's requests together. Fixed windows: the first hit of a window starts it
 * (`INCR` + `PEXPIRE`), the window's counter is shared by all replicas, and a caller over the limit
 * is blocked for `blockDuration` (the throttler passes the route's `ttl` when none is configured).
 *
 * Each `increment` is one atomic Lua script (`EVALSHA`, falling back to `EVAL` when Redis answers
 * NOSCRIPT, e.g. after a restart), so concurrent hits on several replicas are counted exactly.
 * Keys: `${keyPrefix}${namespace}:{${throttlerName}:${key}}:hits` and `…:block`; the `{…}` hash
 * tag keeps both in one Redis Cluster slot.
 *
 * Fails closed like RedisNonceStore: a client error, an unexpected reply or no answer within
 * `timeoutMs` rejects with {@link ThrottlerStorageUnavailableError} (CallerThrottlerGuard answers
 * 503 `rate_limit_unavailable`). An owned client (from `url`) does not queue commands while
 * disconnected and reconnects forever with a capped backoff.
 *
 * Shutdown: Nest calls `onApplicationShutdown()` on the storage instance given to
 * `ThrottlerModule.forRoot[Async]({ storage })`, which closes an owned client.
 */
export class RedisThrottlerStorage extends NamespacedRedisStore implements ThrottlerStorage {
  constructor(options: RedisThrottlerStorageOptions) {
    super('RedisThrottlerStorage', options, DEFAULT_THROTTLER_KEY_PREFIX);
  }

  /** The Redis keys of one throttler key: the window's hit counter and the block marker. */
  keysFor(key: string, throttlerName: string): { hits: string; block: string } {
    // encodeURIComponent leaves no ':' '{' '}' in the name, so (name, key) pairs cannot alias.
    const base = `${this.keyPrefix}${this.namespace}:{${encodeURIComponent(throttlerName)}:${key}}`;
    return { hits: `${base}:hits`, block: `${base}:block` };
  }

  /**
   * Records one hit. `ttl` and `blockDuration` are in milliseconds; the record's `timeToExpire` and
   * `timeToBlockExpire` are in seconds, rounded up (what ThrottlerGuard puts in Retry-After and
   * X-RateLimit-Reset), as with the throttler's own in-memory storage.
   */
  async increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<ThrottlerStorageRecord> {
    if (typeof key !== 'string' || key.length === 0) throw new TypeError('RedisThrottlerStorage.increment: key must be a non-empty string');
    if (typeof throttlerName !== 'string') throw new TypeError('RedisThrottlerStorage.increment: throttlerName must be a string');
    if (!Number.isFinite(ttl) || ttl <= 0) throw new TypeError('RedisThrottlerStorage.increment: ttl must be a positive number of ms');
    if (!Number.isFinite(limit) || limit < 0) throw new TypeError('RedisThrottlerStorage.increment: limit must be a non-negative number');
    if (!Number.isFinite(blockDuration) || blockDuration < 0) {
      throw new TypeError('RedisThrottlerStorage.increment: blockDuration must be a non-negative number of ms');
    }
    const { hits, block } = this.keysFor(key, throttlerName);
    const args = [2, hits, block, Math.ceil(ttl), limit, Math.ceil(blockDuration)] as const;
    const reply: unknown = await this.run(async (client) => {
      try {
        return await client.evalsha(INCREMENT_SHA1, ...args);
      } catch (err) {
        // The script cache is empty (Redis restarted, SCRIPT FLUSH): send the script itself once.
        if (err instanceof Error && err.message.startsWith('NOSCRIPT')) return client.eval(INCREMENT_SCRIPT, ...args);
        throw err;
      }
    });
    if (!Array.isArray(reply) || reply.length !== 4 || !reply.every((n) => typeof n === 'number' && Number.isInteger(n))) {
      throw this.unavailable('unexpected reply from Redis');
    }
    const [totalHits, expireMs, blocked, blockMs] = reply as [number, number, number, number];
    const isBlocked = blocked === 1;
    return {
      totalHits,
      timeToExpire: toSeconds(expireMs),
      isBlocked,
      timeToBlockExpire: isBlocked ? toSeconds(blockMs) : 0,
    };
  }

  protected unavailable(reason: string, cause?: Error): ThrottlerStorageUnavailableError {
    return new ThrottlerStorageUnavailableError(`Rate limit store unavailable: ${reason}`, { cause });
  }

  /** Called by Nest on the instance passed as ThrottlerModule's `storage`. */
  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }
}

/** Milliseconds → whole seconds, rounded up; at least 1 while anything is left. */
function toSeconds(ms: number): number {
  return ms > 0 ? Math.ceil(ms / 1000) : 0;
}
