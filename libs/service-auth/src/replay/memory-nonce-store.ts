import { CallerNonces } from './caller-nonces.js';
import { NonceBudgetExhaustedError } from '../errors/nonce-budget-exhausted.error.js';
import { nonceKey } from './nonce-key.js';
import type { NonceClaim, NonceStore } from './nonce-store.interface.js';

/**
 * Live nonces one caller may have by default, in memory or in Redis. With the default 300 s window (a
 * nonce is kept 306 s at most) that sustains about 3 300 requests per second from EACH caller, more
 * than one instance verifies; replicas sharing Redis share it too, so a caller sending faster to all
 * of them together needs a larger `replay.maxNoncesPerCaller`.
 */
export const DEFAULT_MAX_NONCES_PER_CALLER = 1_000_000;

/** How often, at most, the nonces of callers that have stopped calling are looked at. */
const IDLE_SWEEP_INTERVAL_MS = 1000;

export interface MemoryNonceStoreOptions {
  /**
   * Live nonces one caller may have; a caller at its budget is refused (NonceBudgetExhaustedError)
   * until its oldest nonce expires, and the other callers are not affected. Memory is bounded by
   * (callers) × maxNoncesPerCaller × about 70 bytes (bench/nonce-memory.bench.mjs measures it).
   * Default DEFAULT_MAX_NONCES_PER_CALLER (1 000 000).
   */
  maxNoncesPerCaller?: number;
  now?: () => number;
}

/**
 * Nonces remembered in this process. Right for a single instance; replicas need a shared store
 * (RedisNonceStore), or a request can be replayed once against each replica.
 *
 * Memory is bounded PER CALLER: each caller has its own share of `maxNoncesPerCaller` live nonces.
 * A caller at its budget is refused rather than have a live nonce forgotten, which would reopen the
 * replay window; since the share is its own, one caller sending too fast (only callers that passed
 * signature verification reach the store) cannot get any other caller refused.
 *
 * Every claim costs O(1), amortised: a lookup in the caller's Set, then expired nonces leave from
 * the front of the caller's ring (each nonce leaves once). A refusal looks at nothing else: not the
 * other callers, not the caller's other nonces. Callers that stop calling have their expired nonces
 * dropped by a pass over the callers (not their nonces) at most once a second, on an accepted claim.
 */
export class MemoryNonceStore implements NonceStore {
  readonly maxNoncesPerCaller: number;
  private readonly callers = new Map<string, CallerNonces>();
  private readonly now: () => number;
  private nextIdleSweepAt = 0;

  constructor(options: MemoryNonceStoreOptions = {}) {
    const budget = options.maxNoncesPerCaller ?? DEFAULT_MAX_NONCES_PER_CALLER;
    if (typeof budget !== 'number' || !Number.isSafeInteger(budget) || budget <= 0) {
      throw new RangeError(`MemoryNonceStore: maxNoncesPerCaller must be a positive integer (got ${String(budget)})`);
    }
    this.maxNoncesPerCaller = budget;
    this.now = options.now ?? Date.now;
  }

  /** Nonces remembered for all callers (expired ones not yet dropped included). */
  get size(): number {
    let total = 0;
    for (const nonces of this.callers.values()) total += nonces.size;
    return total;
  }

  /** Nonces remembered for one caller. */
  sizeOf(callerId: string): number {
    return this.callers.get(callerId)?.size ?? 0;
  }

  async claim({ callerId, keyId, nonce }: NonceClaim, expiresAtMs: number): Promise<boolean> {
    if (!Number.isFinite(expiresAtMs)) throw new TypeError('MemoryNonceStore.claim: expiresAtMs must be a finite number');
    const now = this.now();
    const key = nonceKey(callerId, keyId, nonce);
    let nonces = this.callers.get(callerId);
    if (nonces) {
      nonces.forgetExpired(now);
      if (nonces.has(key)) return false;
      if (nonces.isFull) {
        throw new NonceBudgetExhaustedError(callerId, this.maxNoncesPerCaller, Math.max(0, nonces.oldestExpiresAtMs! - now));
      }
    }
    if (now >= this.nextIdleSweepAt) {
      this.forgetExpiredOfEveryCaller(now);
      // The sweep forgets callers left with no nonce, this one's included.
      nonces = this.callers.get(callerId);
    }

    if (!nonces) this.callers.set(callerId, (nonces = new CallerNonces(this.maxNoncesPerCaller)));
    nonces.add(key, expiresAtMs);
    return true;
  }

  /** O(callers) plus the nonces dropped; callers left with none are forgotten. */
  private forgetExpiredOfEveryCaller(now: number): void {
    for (const [callerId, nonces] of this.callers) {
      nonces.forgetExpired(now);
      if (nonces.size === 0) this.callers.delete(callerId);
    }
    this.nextIdleSweepAt = now + IDLE_SWEEP_INTERVAL_MS;
  }

  async close(): Promise<void> {
    this.callers.clear();
  }
}
