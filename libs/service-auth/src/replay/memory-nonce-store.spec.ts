import { describe, it, expect } from '@jest/globals';
import { MemoryNonceStore } from './memory-nonce-store.js';
import { ReplayStoreUnavailableError } from './replay-store-unavailable.error.js';

function clock(start = 1_700_000_000_000) {
  let t = start;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

describe('MemoryNonceStore', () => {
  it('claims a new nonce once and refuses the replay', async () => {
    const c = clock();
    const store = new MemoryNonceStore({ now: c.now });
    await expect(store.claim('order-service:k1:n1', c.now() + 60_000)).resolves.toBe(true);
    await expect(store.claim('order-service:k1:n1', c.now() + 60_000)).resolves.toBe(false);
    await expect(store.claim('order-service:k1:n2', c.now() + 60_000)).resolves.toBe(true);
    expect(store.size).toBe(2);
  });

  it('a replay does not extend the remembered expiry', async () => {
    const c = clock();
    const store = new MemoryNonceStore({ now: c.now });
    await store.claim('n', c.now() + 1000);
    await expect(store.claim('n', c.now() + 1_000_000)).resolves.toBe(false);
    c.advance(1000);
    await expect(store.claim('n', c.now() + 1000)).resolves.toBe(true);
  });

  it('forgets a nonce at its expiry (injected clock), not before', async () => {
    const c = clock();
    const store = new MemoryNonceStore({ now: c.now });
    await store.claim('n', c.now() + 5000);
    c.advance(4999);
    await expect(store.claim('n', c.now() + 5000)).resolves.toBe(false);
    c.advance(1);
    await expect(store.claim('n', c.now() + 5000)).resolves.toBe(true);
  });

  it('concurrent claims of one nonce: exactly one wins', async () => {
    const store = new MemoryNonceStore();
    const results = await Promise.all(Array.from({ length: 20 }, () => store.claim('same', Date.now() + 60_000)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('full of live nonces: the next claim rejects with ReplayStoreUnavailableError and no live nonce is forgotten', async () => {
    const c = clock();
    const N = 50;
    const store = new MemoryNonceStore({ maxEntries: N, now: c.now });
    for (let i = 0; i < N; i++) await expect(store.claim(`n${i}`, c.now() + 60_000)).resolves.toBe(true);
    expect(store.size).toBe(N);

    const rejection = store.claim('one-too-many', c.now() + 60_000);
    await expect(rejection).rejects.toBeInstanceOf(ReplayStoreUnavailableError);
    await expect(store.claim('one-too-many', c.now() + 60_000)).rejects.toThrow(/full/);
    expect(store.size).toBe(N);

    // Every live nonce is still remembered: replays are still refused (the check runs before the bound).
    for (let i = 0; i < N; i++) await expect(store.claim(`n${i}`, c.now() + 60_000)).resolves.toBe(false);
  });

  it('full, but some entries expired: they are swept to make room', async () => {
    const c = clock();
    const store = new MemoryNonceStore({ maxEntries: 4, now: c.now });
    await store.claim('short-1', c.now() + 100);
    await store.claim('short-2', c.now() + 100);
    await store.claim('long-1', c.now() + 60_000);
    await store.claim('long-2', c.now() + 60_000);
    c.advance(100);
    await expect(store.claim('new-1', c.now() + 60_000)).resolves.toBe(true);
    expect(store.size).toBe(3);
    await expect(store.claim('new-2', c.now() + 60_000)).resolves.toBe(true);
    await expect(store.claim('new-3', c.now() + 60_000)).rejects.toBeInstanceOf(ReplayStoreUnavailableError);
    await expect(store.claim('long-1', c.now() + 60_000)).resolves.toBe(false);
    await expect(store.claim('long-2', c.now() + 60_000)).resolves.toBe(false);
  });

  it('an expired entry for the same key can be reclaimed even when the store is full', async () => {
    const c = clock();
    const store = new MemoryNonceStore({ maxEntries: 2, now: c.now });
    await store.claim('a', c.now() + 10);
    await store.claim('b', c.now() + 60_000);
    c.advance(10);
    await expect(store.claim('a', c.now() + 60_000)).resolves.toBe(true);
    expect(store.size).toBe(2);
  });

  it('size never exceeds the bound under a flood of 10x distinct nonces with advancing time', async () => {
    const c = clock();
    const maxEntries = 200;
    const ttl = 2_000;
    const store = new MemoryNonceStore({ maxEntries, now: c.now });
    let accepted = 0;
    let refused = 0;
    let maxSize = 0;
    for (let i = 0; i < maxEntries * 10; i++) {
      c.advance(7); // 200 claims span 1.4 s: fewer live nonces than the bound most of the time, but not always
      try {
        if (await store.claim(`flood-${i}`, c.now() + ttl)) accepted++;
      } catch (err) {
        expect(err).toBeInstanceOf(ReplayStoreUnavailableError);
        refused++;
      }
      maxSize = Math.max(maxSize, store.size);
      expect(store.size).toBeLessThanOrEqual(maxEntries);
    }
    expect(maxSize).toBe(maxEntries);
    expect(accepted + refused).toBe(maxEntries * 10);
    expect(accepted).toBeGreaterThan(maxEntries * 5); // expired entries were swept to make room
    expect(refused).toBeGreaterThan(0); // ttl / 7 ms ≈ 285 live > 200: the bound was actually hit
  });

  it('close() forgets everything', async () => {
    const store = new MemoryNonceStore();
    await store.claim('x', Date.now() + 60_000);
    await store.close();
    expect(store.size).toBe(0);
    await expect(store.claim('x', Date.now() + 60_000)).resolves.toBe(true);
  });
});
