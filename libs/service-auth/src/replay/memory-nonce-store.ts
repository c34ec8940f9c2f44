import type { NonceStore } from './nonce-store.interface.js';
import { ReplayStoreUnavailableError } from './replay-store-unavailable.error.js';

export interface MemoryNonceStoreOptions {
  /**
   * Upper bound on remembered nonces. Default 1 000 000 (roughly 150 MB when full): with the default
   * 300 s window that sustains about 3 300 verified requests per second. Beyond that, use Redis.
   */
  maxEntries?: number;
  now?: () => number;
}

/**
 * Nonces remembered in this process. Right for a single instance; replicas need a shared store
 * (RedisNonceStore), or a request can be replayed once against each replica.
 *
 * Memory is bounded: expired entries are swept as new ones arrive, and when the store is full of
 * live nonces it refuses new claims (the guard answers 503) rather than forget a live nonce, which
 * would reopen the replay window. Only callers that passed signature verification reach the store,
 * so filling it takes a valid credential.
 */
export class MemoryNonceStore implements NonceStore {
  private readonly entries = new Map<string, number>();
  private readonly maxEntries: number;
  private readonly now: () => number;
  private nextSweepAt = 0;

  constructor(options: MemoryNonceStoreOptions = {}) {
    this.maxEntries = options.maxEntries ?? 1_000_000;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  async claim(key: string, expiresAtMs: number): Promise<boolean> {
    const now = this.now();
    const existing = this.entries.get(key);
    if (existing !== undefined && existing > now) return false;
    if (now >= this.nextSweepAt) this.sweepOldest(now);
    if (this.entries.size >= this.maxEntries) this.sweepAll(now);
    if (this.entries.size >= this.maxEntries) {
      throw new ReplayStoreUnavailableError(`nonce store is full (${this.maxEntries} live nonces)`);
    }
    // Re-inserting moves the key to the end, keeping the map roughly in expiry order for the sweep.
    this.entries.delete(key);
    this.entries.set(key, expiresAtMs);
    return true;
  }

  /** Rejects when the store is full of live nonces (claims are refused, 503), resolves otherwise. */
  async ping(): Promise<void> {
    if (this.entries.size < this.maxEntries) return;
    this.sweepAll(this.now());
    if (this.entries.size >= this.maxEntries) {
      throw new ReplayStoreUnavailableError(`nonce store is full (${this.maxEntries} live nonces)`);
    }
  }

  /**
   * Nonces arrive roughly in expiry order (expiry is `created` plus a constant), so expired ones sit
   * at the front of the map: drop them until the first live one. Cost: the number expired.
   * An entry slightly out of order only stays a little longer, which is the safe direction.
   */
  private sweepOldest(now: number): void {
    for (const [key, expiresAt] of this.entries) {
      if (expiresAt > now) break;
      this.entries.delete(key);
    }
    this.nextSweepAt = now + 1000;
  }

  /** Only when full: one pass over everything before refusing. */
  private sweepAll(now: number): void {
    for (const [key, expiresAt] of this.entries) {
      if (expiresAt <= now) this.entries.delete(key);
    }
  }

  async close(): Promise<void> {
    this.entries.clear();
  }
}
