import { createHash } from 'node:crypto';
import { NamespacedRedisStore, type RedisStoreOptions, type RedisStoreTuning } from './namespaced-redis-store.js';
import type { RedisClient } from './redis-connection.js';
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
  /**
   * Count a claim only once `replicas` replicas of the Redis master have it (`WAIT`), within
   * `timeoutMs` (default: half the store's `timeoutMs`, and less than it). A claim they do not
   * acknowledge in time rejects (ReplayStoreUnavailableError, 503): the request is refused, and its
   * nonce stays used. Redis replicates asynchronously, so without this a nonce acknowledged by a
   * master that dies before a replica copied it is forgotten by the promoted replica, and its request
   * can be accepted once more; with `replicas` = every replica, a failover keeps every nonce that
   * counted. Costs a replication round trip per claim (see docs/benchmarks.md).
   */
  waitForReplicas?: { replicas: number; timeoutMs?: number };
}

/** What the claim script answered, and (with waitForReplicas) how many replicas acknowledged it. */
interface ClaimReply {
  outcome: unknown;
  acknowledgedBy?: unknown;
}

/**
 * One claim = one atomic script run (nothing else runs in Redis meanwhile, on any replica).
 * KEYS[1]: the nonce, a string with a PX expiry. KEYS[2]: the caller's live nonces, a sorted set
 * whose members name them and whose scores are their expiries (ms, Redis' clock: one clock for
 * every replica). On a Cluster both keys carry the hash tag `{<namespace>:<callerId>}`, so they are in
 * one slot (no CROSSSLOT). ARGV: ttl (ms), budget, member. Returns {1} first use, {0} a replay, {2, ms until
 * the caller's oldest nonce expires} for a caller at its budget (nothing recorded).
 *
 * Expired members leave first (ZREMRANGEBYSCORE, each once), so the count is of live nonces only; a
 * replay is a replay even at the budget; the set expires with the caller's last nonce.
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
 * A {@link NonceStore} in Redis, shared by every replica of a callee service: one Redis (`url` or a
 * `client`), a master found through Sentinel (`sentinel`, or a Sentinel-configured `client`), or a
 * Redis Cluster (`cluster`, or a `Cluster` as `client`).
 *
 * Each claim is one atomic script run (CLAIM_SCRIPT): first use resolves `true`, a replay `false`,
 * a caller over `maxNoncesPerCaller` rejects with NonceBudgetExhaustedError. Fails closed: any
 * client error, any unexpected reply, or no answer within `timeoutMs` rejects with
 * {@link ReplayStoreUnavailableError}; a claim never resolves `true` without Redis saying so.
 *
 * Keys:
 *   `${keyPrefix}${namespace}:${callerId}:${keyId}:${nonce}`  the nonce, PX expiry = its window
 *   `${keyPrefix}${namespace}:${callerId}`                    the caller's live nonces (sorted set)
 * On a Redis Cluster `${namespace}:${callerId}` is wrapped in braces, a hash tag: a claim's two keys
 * stay in one slot, and callers spread over the shards. One Redis and Sentinel keep the plain
 * layout, so replicas of every version of this store see each other's nonces.
 * Nothing outlives the replay window (max age + future skew + 1 s). Run Redis with
 * `maxmemory-policy noeviction`: when full it refuses writes (503 `replay_store_unavailable`)
 * instead of evicting live nonces, which would let their requests be replayed.
 *
 * Failover (Sentinel, Cluster): while no master answers, claims reject (503); an owned client finds
 * the promoted replica on its own. Replication is asynchronous: a nonce the old master acknowledged
 * but had not yet sent to the replica is lost, and its request can be accepted once more after the
 * promotion, unless `waitForReplicas` is set (SECURITY.md, "Redis failover").
 *
 * An owned client does not queue commands while disconnected (`enableOfflineQueue: false`,
 * `maxRetriesPerRequest: 0`), so during an outage claims reject at once instead of piling up; it
 * reconnects forever with a capped backoff. A claim issued while it is still connecting waits for
 * 'ready' within its `timeoutMs` budget.
 */
export class RedisNonceStore extends NamespacedRedisStore implements NonceStore {
  readonly maxNoncesPerCaller: number;
  /** Replicas that must acknowledge a claim, and how long to wait for them (ms); undefined: no WAIT. */
  readonly waitForReplicas: { replicas: number; timeoutMs: number } | undefined;

  constructor(options: RedisNonceStoreOptions) {
    super('RedisNonceStore', options, DEFAULT_NONCE_KEY_PREFIX);
    const budget = options.maxNoncesPerCaller ?? DEFAULT_MAX_NONCES_PER_CALLER;
    if (typeof budget !== 'number' || !Number.isSafeInteger(budget) || budget <= 0) {
      throw new RangeError(`RedisNonceStore: maxNoncesPerCaller must be a positive integer (got ${String(budget)})`);
    }
    this.maxNoncesPerCaller = budget;
    this.waitForReplicas = resolveWait(options.waitForReplicas, this.timeoutMs);
  }

  /** `new RedisNonceStore({ ...opts, url, namespace })`: the store owns the client. */
  static fromUrl(url: string, namespace: string, opts: RedisStoreTuning & NonceBudgetOptions = {}): RedisNonceStore {
    return new RedisNonceStore({ ...opts, url, namespace });
  }

  /** The Redis key a nonce is stored under. Namespace, caller and key ids cannot contain ':' (checked), so keys never alias. */
  keyFor({ callerId, keyId, nonce }: NonceClaim): string {
    return `${this.budgetKeyFor(callerId)}:${keyId}:${nonce}`;
  }

  /**
   * The Redis key of a caller's budget, and the start of each of its nonce keys (which have two ':'
   * more, so never equal it). On a Cluster `{namespace:callerId}` is the hash tag: whatever the key
   * prefix holds, both keys of a claim hash to the same slot, since they are equal up to its closing brace.
   */
  budgetKeyFor(callerId: string): string {
    const owner = `${this.namespace}:${callerId}`;
    return `${this.keyPrefix}${this.onCluster ? `{${owner}}` : owner}`;
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
    const wait = this.waitForReplicas;
    const { outcome: reply, acknowledgedBy } = await this.run((client) =>
      wait ? claimAndWait(client, args, wait) : claimOnly(client, args),
    );
    const [outcome, retryAfterMs, ...rest] = Array.isArray(reply) ? (reply as unknown[]) : [];
    if (rest.length === 0) {
      if (outcome === 1 && retryAfterMs === undefined) {
        if (!wait) return true;
        if (typeof acknowledgedBy !== 'number') throw this.unavailable('unexpected reply to WAIT');
        // The nonce is recorded on the master either way; refusing keeps a request from counting on a copy a failover may lose.
        if (acknowledgedBy < wait.replicas) {
          throw this.unavailable(`claim acknowledged by ${acknowledgedBy} of ${wait.replicas} replica(s) within ${wait.timeoutMs} ms`);
        }
        return true;
      }
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

type ClaimArgs = readonly [number, string, string, number, number, string];

/** One claim, EVALSHA first; EVAL once when the script cache is empty (Redis restarted, SCRIPT FLUSH). */
async function claimOnly(client: RedisClient, args: ClaimArgs): Promise<ClaimReply> {
  try {
    return { outcome: await client.evalsha(CLAIM_SHA1, ...args) };
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('NOSCRIPT')) return { outcome: await client.eval(CLAIM_SCRIPT, ...args) };
    throw err;
  }
}

/**
 * The claim and `WAIT replicas timeoutMs` in one pipeline: on a Cluster the pipeline goes to the
 * master of the claim's slot (WAIT has no key of its own), and WAIT covers the claim's write since
 * it follows it on the same connection. WAIT is not allowed inside a script, hence the pipeline.
 */
async function claimAndWait(client: RedisClient, args: ClaimArgs, wait: { replicas: number; timeoutMs: number }): Promise<ClaimReply> {
  const send = async (script: 'evalsha' | 'eval') => {
    const pipeline = client.pipeline();
    if (script === 'evalsha') pipeline.evalsha(CLAIM_SHA1, ...args);
    else pipeline.eval(CLAIM_SCRIPT, ...args);
    const results = (await pipeline.wait(wait.replicas, wait.timeoutMs).exec()) ?? [];
    const [[claimError, outcome] = [], [waitError, acknowledgedBy] = []] = results;
    return { claimError, outcome, waitError, acknowledgedBy };
  };
  let reply = await send('evalsha');
  if (reply.claimError instanceof Error && reply.claimError.message.startsWith('NOSCRIPT')) reply = await send('eval');
  if (reply.claimError) throw reply.claimError;
  if (reply.waitError) throw reply.waitError;
  return { outcome: reply.outcome, acknowledgedBy: reply.acknowledgedBy };
}

function resolveWait(
  wait: RedisNonceStoreOptions['waitForReplicas'],
  storeTimeoutMs: number,
): { replicas: number; timeoutMs: number } | undefined {
  if (wait === undefined) return undefined;
  const { replicas, timeoutMs = Math.max(1, Math.floor(storeTimeoutMs / 2)) } = (wait ?? {}) as { replicas?: unknown; timeoutMs?: unknown };
  if (typeof replicas !== 'number' || !Number.isSafeInteger(replicas) || replicas <= 0) {
    throw new RangeError(`RedisNonceStore: waitForReplicas.replicas must be a positive integer (got ${String(replicas)})`);
  }
  // The store's deadline covers the WAIT too: a WAIT as long as the deadline would always lose the race.
  if (typeof timeoutMs !== 'number' || !Number.isSafeInteger(timeoutMs) || timeoutMs <= 0 || timeoutMs >= storeTimeoutMs) {
    throw new RangeError(`RedisNonceStore: waitForReplicas.timeoutMs must be a positive integer below timeoutMs (${storeTimeoutMs})`);
  }
  return { replicas, timeoutMs };
}

function isId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && !value.includes(':');
}
