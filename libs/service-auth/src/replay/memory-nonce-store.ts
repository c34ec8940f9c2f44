import type { NonceStore } from './nonce-store.interface.js';
import { ReplayStoreUnavailableError } from './replay-store-unavailable.error.js';

export interface MemoryNonceStoreOptions {
  /** Upper bound on remembered nonces. Default 100 000 (a few MB). */
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
    this.maxEntries = options.maxEntries ?? 100_000;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  async claim(key: string, expiresAtMs: number): Promise<boolean> {
    const now = this.now();
    const existing = this.entries.get(key);
    if (existing !== undefined && existing > now) return false;
    if (this.entries.size >= this.maxEntries || now >= this.nextSweepAt) this.sweep(now);
    if (this.entries.size >= this.maxEntries) {
      throw new ReplayStoreUnavailableError(`nonce store is full (${this.maxEntries} live nonces)`);
    }
    // Re-inserting moves the key to the end, keeping the map roughly in expiry order for the sweep.
    this.entries.delete(key);
    this.entries.set(key, expiresAtMs);
    return true;
  }

  private sweep(now: number): void {
    for (const [key, expiresAt] of this.entries) {
      if (expiresAt <= now) this.entries.delete(key);
    }
    this.nextSweepAt = now + 1000;
  }

  async close(): Promise<void> {
    this.entries.clear();
  }
}
