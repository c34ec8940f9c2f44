import { NamespacedRedisStore, type RedisStoreOptions, type RedisStoreTuning } from '../redis/namespaced-redis-store.js';
import type { NonceClaim, NonceStore } from './nonce-store.interface.js';
import { ReplayStoreUnavailableError } from './replay-store-unavailable.error.js';

export const DEFAULT_NONCE_KEY_PREFIX = 'nest-service-auth:nonce:';

export type RedisNonceStoreOptions = RedisStoreOptions;

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
  constructor(options: RedisNonceStoreOptions) {
    super('RedisNonceStore', options, DEFAULT_NONCE_KEY_PREFIX);
  }

  /** `new RedisNonceStore({ ...opts, url, namespace })`: the store owns the client. */
  static fromUrl(
    url: string,
    namespace: string,
    opts: RedisStoreTuning = {},
  ): RedisNonceStore {
    return new RedisNonceStore({ ...opts, url, namespace });
  }

  /** The Redis key a nonce is stored under. Caller and key ids cannot contain ':' (checked by claim), so keys never alias. */
  keyFor({ callerId, keyId, nonce }: NonceClaim): string {
    return `${this.keyPrefix}${this.namespace}:${callerId}:${keyId}:${nonce}`;
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
    const redisKey = this.keyFor(claim);
    const ttlMs = Math.max(1, Math.ceil(expiresAtMs - Date.now()));
    const reply = await this.run((client) => client.set(redisKey, '1', 'PX', ttlMs, 'NX'));
    if (reply === 'OK') return true;
    if (reply === null) return false;
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
