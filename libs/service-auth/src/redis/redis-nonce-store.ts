import { createHash } from 'node:crypto';
import { NamespacedRedisStore, type RedisStoreOptions, type RedisStoreTuning } from './namespaced-redis-store.js';
import { DEFAULT_MAX_NONCES_PER_CALLER } from '../replay/memory-nonce-store.js';
import { NonceBudgetExhaustedError } from '../errors/nonce-budget-exhausted.error.js';
import type { NonceClaim, NonceStore } from '../replay/nonce-store.interface.js';
import { ReplayStoreUnavailableError } from '../errors/replay-store-unavailable.error.js';

export const DEFAULT_NONCE_KEY_PREFIX = 'nest-service-auth:nonce:';

/** Tuning of the nonce store itself, on top of the connection's. */
interface NonceBudgetOptions {
  /**
   * Live nonces one caller may have, counted over every replica sharing the Redis. A caller at its
   * budget is refused (NonceBudgetExhaustedError) until its oldest nonce expires; other callers are
   * not affected. Default DEFAULT_MAX_NONCES_PER_CALLER (1 000 000).
   */
  maxNoncesPerCaller?: number;
}

/**
 * One claim = one atomic script run (nothing else runs in Redis meanwhile, on any replica).
 * KEYS[1]: the nonce, a string with a PX expiry. KEYS[2]: the caller's live nonces, a sorted set
 * whose members name them and whose scores are their expiries (ms, Redis' clock: one clock for
 * every replica). ARGV: ttl (ms), budget, member. Returns {1} first use, {0} a replay, {2, ms until
 * the caller's oldest nonce expires} for a caller at its budget (nothing recorded).
 *
 * Expired members leave first (ZREMRANGEBYSCORE, each once), so the count is of live nonces only; a
 * replay is a replay even at the budget; the set expires with the caller's last nonce. KEYS[1] is the
 * key earlier versions SET NX directly, so replicas of both versions see each other's nonces.
 */
const CLAIM_SCRIPT = `
local ttl = tonumber(ARGV[1])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('EXISTS', KEYS[1]) == 1 then
  return { 0 }
end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[2]) then
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  return { 2, math.max(0, tonumber(oldest[2]) - now) }
end
redis.call('SET', KEYS[1], '1', 'PX', ttl)
redis.call('ZADD', KEYS[2], now + ttl, ARGV[3])
if redis.call('PTTL', KEYS[2]) < ttl then
  redis.call('PEXPIRE', KEYS[2], ttl)
end
return { 1 }
`;
const CLAIM_SHA1 = createHash('sha1').update(CLAIM_SCRIPT).digest('hex');

export type RedisNonceStoreOptions = RedisStoreOptions & NonceBudgetOptions;

/**
 * A {@link NonceStore} in Redis, shared by every replica of a callee service.
 *
 * Each claim is exactly one atomic round trip, `SET <key> 1 PX <ttl> NX`: `'OK'` means first use
 * (`true`), a null reply means the key exists (`false`, a replay). Fails closed: any client error,
 * any unexpected reply, or no answer within `timeoutMs` rejects with
 * {@link ReplayStoreUnavailableError}; a claim never resolves `true` without Redis saying so.
 *
 * An owned client (created from `url`) does not queue commands while disconnected
 * (`enableOfflineQueue: false`, `maxRetriesPerRequest: 0`), so during an outage claims reject at
 * once instead of piling up; it reconnects forever with a capped backoff, so claims succeed again
 * once Redis is back, without recreating the store.
 *
 * Keys: `${keyPrefix}${namespace}:${callerId}:${keyId}:${nonce}`, each with a PX expiry, so the keys
 * of a callee never outlive the replay window (max age + future skew + 1 s). There is no per-caller
 * budget here: what bounds the keys is the rate of verified requests times that window, and Redis'
 * own `maxmemory`. Run it with `maxmemory-policy noeviction`: Redis then refuses writes when full
 * (claims reject, 503 `replay_store_unavailable`) instead of evicting live nonces, which would let
 * their requests be replayed. One caller can fill Redis for everyone: size `maxmemory` for the
 * verified request rate you accept times the window (a nonce takes about 180 bytes in Redis 7).
 *
 * Startup: the client connects as soon as the store is constructed. A claim issued while it is
 * still connecting (or reconnecting: socket open, ready check running) waits for 'ready' within its
 * `timeoutMs` budget; ioredis with `enableOfflineQueue: false` would otherwise reject it straight
 * away. If Redis is not reachable within that budget the claim rejects (fail closed).
 */
export class RedisNonceStore extends NamespacedRedisStore implements NonceStore {
  readonly maxNoncesPerCaller: number;

  constructor(options: RedisNonceStoreOptions) {
    super('RedisNonceStore', options, DEFAULT_NONCE_KEY_PREFIX);
    const budget = options.maxNoncesPerCaller ?? DEFAULT_MAX_NONCES_PER_CALLER;
    if (typeof budget !== 'number' || !Number.isSafeInteger(budget) || budget <= 0) {
      throw new RangeError(`RedisNonceStore: maxNoncesPerCaller must be a positive integer (got ${String(budget)})`);
    }
    this.maxNoncesPerCaller = budget;
  }

  /** `new RedisNonceStore({ ...opts, url, namespace })`: the store owns the client. */
  static fromUrl(url: string, namespace: string, opts: RedisStoreTuning & NonceBudgetOptions = {}): RedisNonceStore {
    return new RedisNonceStore({ ...opts, url, namespace });
  }

  /** The Redis key a nonce is stored under. Caller and key ids cannot contain ':' (checked by claim), so keys never alias. */
  keyFor({ callerId, keyId, nonce }: NonceClaim): string {
    return `${this.keyPrefix}${this.namespace}:${callerId}:${keyId}:${nonce}`;
  }

  /** The Redis key of a caller's budget: one ':' fewer than any of its nonce keys, so never one of them. */
  budgetKeyFor(callerId: string): string {
    return `${this.keyPrefix}${this.namespace}:${callerId}`;
  }

  async claim(claim: NonceClaim, expiresAtMs: number): Promise<boolean> {
    const { callerId, keyId, nonce } = (claim ?? {}) as Partial<NonceClaim>;
    if (!isId(callerId) || !isId(keyId)) {
      throw new TypeError('RedisNonceStore.claim: callerId and keyId must be non-empty strings without ":"');
    }
    if (typeof nonce !== 'string' || nonce.length === 0) {
      throw new TypeError('RedisNonceStore.claim: nonce must be a non-empty string');
    }
    if (!Number.isFinite(expiresAtMs)) {
      throw new TypeError('RedisNonceStore.claim: expiresAtMs must be a finite number');
    }
    const ttlMs = Math.max(1, Math.ceil(expiresAtMs - Date.now()));
    const args = [
      2,
      this.keyFor({ callerId, keyId, nonce }),
      this.budgetKeyFor(callerId),
      ttlMs,
      this.maxNoncesPerCaller,
      `${keyId}:${nonce}`,
    ] as const;
    const reply: unknown = await this.run(async (client) => {
      try {
        return await client.evalsha(CLAIM_SHA1, ...args);
      } catch (err) {
        // The script cache is empty (Redis restarted, SCRIPT FLUSH): send the script itself once.
        if (err instanceof Error && err.message.startsWith('NOSCRIPT')) return client.eval(CLAIM_SCRIPT, ...args);
        throw err;
      }
    });
    const [outcome, retryAfterMs, ...rest] = Array.isArray(reply) ? (reply as unknown[]) : [];
    if (rest.length === 0) {
      if (outcome === 1 && retryAfterMs === undefined) return true;
      if (outcome === 0 && retryAfterMs === undefined) return false;
      if (outcome === 2 && Number.isSafeInteger(retryAfterMs) && (retryAfterMs as number) >= 0) {
        throw new NonceBudgetExhaustedError(callerId, this.maxNoncesPerCaller, retryAfterMs as number);
      }
    }
    throw this.unavailable('unexpected reply from Redis');
  }

  /**
   * Resolves when Redis answers a PING within `timeoutMs`; rejects with
   * {@link ReplayStoreUnavailableError} (message without the URL's password) otherwise. For health
   * checks (ReplayStoreHealthIndicator): claims would fail closed at this moment.
   */
  async ping(): Promise<void> {
    const reply = await this.run((client) => client.ping());
    if (reply !== 'PONG') throw this.unavailable('unexpected reply to PING');
  }

  protected unavailable(reason: string, cause?: Error): ReplayStoreUnavailableError {
    return new ReplayStoreUnavailableError(`Replay store unavailable: ${reason}`, { cause });
  }
}

function isId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && !value.includes(':');
}
