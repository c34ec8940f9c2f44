import { afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { DEFAULT_MAX_NONCES_PER_CALLER, MemoryNonceStore } from './memory-nonce-store.js';
import { NonceBudgetExhaustedError } from '../errors/nonce-budget-exhausted.error.js';
import type { NonceClaim } from './nonce-store.interface.js';
import { rejectionOf } from '../../test/refusal-of.js';

function clock(start = 1_700_000_000_000) {
  let t = start;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

/** One claim of `nonce` by `callerId` with key `keyId`. */
const nonceOf = (nonce: string, callerId = 'order-service', keyId = 'k1'): NonceClaim => ({ callerId, keyId, nonce });

/**
 * Counts every step of every Map and Set iteration in the process (V8 takes its generic path once
 * the iterator prototypes are patched, so for-of over a Map goes through the spy too). A store that
 * scans its entries to decide shows up here; one that decides from a few direct lookups does not.
 */
function countIterations(): { steps: () => number; restore: () => void } {
  const spies = [new Map(), new Set()].map((collection) =>
    jest.spyOn(Object.getPrototypeOf(collection[Symbol.iterator]()) as { next: () => unknown }, 'next'),
  );
  return {
    steps: () => spies.reduce((sum, spy) => sum + spy.mock.calls.length, 0),
    restore: () => spies.forEach((spy) => spy.mockRestore()),
  };
}

describe('MemoryNonceStore', () => {
  it('claims a new nonce once and refuses the replay', async () => {
    const c = clock();
    const store = new MemoryNonceStore({ now: c.now });
    await expect(store.claim(nonceOf('n1'), c.now() + 60_000)).resolves.toBe(true);
    await expect(store.claim(nonceOf('n1'), c.now() + 60_000)).resolves.toBe(false);
    await expect(store.claim(nonceOf('n2'), c.now() + 60_000)).resolves.toBe(true);
    expect(store.size).toBe(2);
  });

  it('the same nonce under another key id or another caller is another claim', async () => {
    const c = clock();
    const store = new MemoryNonceStore({ now: c.now });
    await expect(store.claim(nonceOf('n', 'order-service', 'k1'), c.now() + 60_000)).resolves.toBe(true);
    await expect(store.claim(nonceOf('n', 'order-service', 'k2'), c.now() + 60_000)).resolves.toBe(true);
    await expect(store.claim(nonceOf('n', 'billing-service', 'k1'), c.now() + 60_000)).resolves.toBe(true);
    await expect(store.claim(nonceOf('n', 'billing-service', 'k1'), c.now() + 60_000)).resolves.toBe(false);
    expect(store.size).toBe(3);
    expect(store.sizeOf('order-service')).toBe(2);
    expect(store.sizeOf('billing-service')).toBe(1);
    expect(store.sizeOf('nobody')).toBe(0);
  });

  it('long nonces (128 characters) that differ only in their last character are two nonces; each replay is refused', async () => {
    const c = clock();
    const store = new MemoryNonceStore({ now: c.now });
    const a = 'a'.repeat(127) + 'A';
    const b = 'a'.repeat(127) + 'B';
    await expect(store.claim(nonceOf(a), c.now() + 60_000)).resolves.toBe(true);
    await expect(store.claim(nonceOf(b), c.now() + 60_000)).resolves.toBe(true);
    await expect(store.claim(nonceOf(a), c.now() + 60_000)).resolves.toBe(false);
    await expect(store.claim(nonceOf(b), c.now() + 60_000)).resolves.toBe(false);
  });

  it('a replay does not extend the remembered expiry', async () => {
    const c = clock();
    const store = new MemoryNonceStore({ now: c.now });
    await store.claim(nonceOf('n'), c.now() + 1000);
    await expect(store.claim(nonceOf('n'), c.now() + 1_000_000)).resolves.toBe(false);
    c.advance(1000);
    await expect(store.claim(nonceOf('n'), c.now() + 1000)).resolves.toBe(true);
  });

  it('forgets a nonce at its expiry (injected clock), not before', async () => {
    const c = clock();
    const store = new MemoryNonceStore({ now: c.now });
    await store.claim(nonceOf('n'), c.now() + 5000);
    c.advance(4999);
    await expect(store.claim(nonceOf('n'), c.now() + 5000)).resolves.toBe(false);
    c.advance(1);
    await expect(store.claim(nonceOf('n'), c.now() + 5000)).resolves.toBe(true);
  });

  it('concurrent claims of one nonce: exactly one wins', async () => {
    const store = new MemoryNonceStore();
    const results = await Promise.all(Array.from({ length: 20 }, () => store.claim(nonceOf('same'), Date.now() + 60_000)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('a caller at its budget is refused with NonceBudgetExhaustedError; its live nonces are not forgotten; other callers are served', async () => {
    const c = clock();
    const budget = 50;
    const store = new MemoryNonceStore({ maxNoncesPerCaller: budget, now: c.now });
    for (let i = 0; i < budget; i++) {
      await expect(store.claim(nonceOf(`n${i}`, 'greedy'), c.now() + 60_000 + i)).resolves.toBe(true);
    }
    c.advance(1_500);

    const error = await rejectionOf(store.claim(nonceOf('one-too-many', 'greedy'), c.now() + 60_000));
    expect(error).toBeInstanceOf(NonceBudgetExhaustedError);
    expect(error).toMatchObject({ callerId: 'greedy', budget, retryAfterMs: 58_500 }); // when its oldest nonce expires
    expect((error as Error).message).toMatch(/greedy.*50/);
    expect(store.size).toBe(budget);

    // Every live nonce is still remembered: replays are still refused (the replay check runs before the budget).
    for (let i = 0; i < budget; i++) await expect(store.claim(nonceOf(`n${i}`, 'greedy'), c.now() + 60_000)).resolves.toBe(false);

    for (let i = 0; i < budget; i++) await expect(store.claim(nonceOf(`n${i}`, 'modest'), c.now() + 60_000)).resolves.toBe(true);
    expect(store.size).toBe(2 * budget);

    // Room comes back for the greedy caller when its oldest nonce expires, one nonce at a time.
    c.advance(58_499);
    await expect(store.claim(nonceOf('one-too-many', 'greedy'), c.now() + 60_000)).rejects.toMatchObject({ retryAfterMs: 1 });
    c.advance(1);
    await expect(store.claim(nonceOf('one-too-many', 'greedy'), c.now() + 60_000)).resolves.toBe(true);
    await expect(store.claim(nonceOf('and-another', 'greedy'), c.now() + 60_000)).rejects.toBeInstanceOf(NonceBudgetExhaustedError);
  });

  it('full, but some of its own entries expired: they are swept to make room', async () => {
    const c = clock();
    const store = new MemoryNonceStore({ maxNoncesPerCaller: 4, now: c.now });
    await store.claim(nonceOf('short-1'), c.now() + 100);
    await store.claim(nonceOf('short-2'), c.now() + 100);
    await store.claim(nonceOf('long-1'), c.now() + 60_000);
    await store.claim(nonceOf('long-2'), c.now() + 60_000);
    c.advance(100);
    await expect(store.claim(nonceOf('new-1'), c.now() + 60_000)).resolves.toBe(true);
    expect(store.size).toBe(3);
    await expect(store.claim(nonceOf('new-2'), c.now() + 60_000)).resolves.toBe(true);
    await expect(store.claim(nonceOf('new-3'), c.now() + 60_000)).rejects.toBeInstanceOf(NonceBudgetExhaustedError);
    await expect(store.claim(nonceOf('long-1'), c.now() + 60_000)).resolves.toBe(false);
    await expect(store.claim(nonceOf('long-2'), c.now() + 60_000)).resolves.toBe(false);
  });

  it('an expired entry for the same nonce can be claimed again even when the caller is at its budget', async () => {
    const c = clock();
    const store = new MemoryNonceStore({ maxNoncesPerCaller: 2, now: c.now });
    await store.claim(nonceOf('a'), c.now() + 10);
    await store.claim(nonceOf('b'), c.now() + 60_000);
    c.advance(10);
    await expect(store.claim(nonceOf('a'), c.now() + 60_000)).resolves.toBe(true);
    expect(store.size).toBe(2);
  });

  it('entries out of expiry order: a nonce is remembered at least until its expiry, never less', async () => {
    const c = clock();
    const store = new MemoryNonceStore({ now: c.now });
    // Expiry follows `created`, which the caller chooses within the window: arrival order is not expiry order.
    await store.claim(nonceOf('late'), c.now() + 10_000);
    await store.claim(nonceOf('early'), c.now() + 1_000);
    c.advance(1_000);
    // 'early' has expired but waits behind 'late': refusing it is the safe direction (the caller reused a nonce).
    await expect(store.claim(nonceOf('early'), c.now() + 60_000)).resolves.toBe(false);
    c.advance(9_000);
    await expect(store.claim(nonceOf('late'), c.now() + 60_000)).resolves.toBe(true);
    await expect(store.claim(nonceOf('early'), c.now() + 60_000)).resolves.toBe(true);
    expect(store.size).toBe(2);
  });

  it('size never exceeds callers × budget under a flood of 10x distinct nonces from three callers with advancing time', async () => {
    const c = clock();
    const budget = 200;
    const ttl = 2_000;
    const callers = ['a', 'b', 'c'];
    const store = new MemoryNonceStore({ maxNoncesPerCaller: budget, now: c.now });
    let accepted = 0;
    let refused = 0;
    let maxSize = 0;
    for (let i = 0; i < budget * 10; i++) {
      c.advance(7); // each caller: ttl / 7 ms ≈ 285 live nonces wanted > 200, so the budget is actually hit
      for (const caller of callers) {
        try {
          if (await store.claim(nonceOf(`flood-${i}`, caller), c.now() + ttl)) accepted++;
        } catch (err) {
          expect(err).toBeInstanceOf(NonceBudgetExhaustedError);
          refused++;
        }
        expect(store.sizeOf(caller)).toBeLessThanOrEqual(budget);
      }
      maxSize = Math.max(maxSize, store.size);
      expect(store.size).toBeLessThanOrEqual(callers.length * budget);
    }
    expect(maxSize).toBe(callers.length * budget);
    expect(accepted + refused).toBe(callers.length * budget * 10);
    expect(accepted).toBeGreaterThan(callers.length * budget * 5); // expired entries were swept to make room
    expect(refused).toBeGreaterThan(0);
  });

  it('the nonces of a caller that stopped calling are forgotten once expired, while others call', async () => {
    const c = clock();
    const store = new MemoryNonceStore({ now: c.now });
    for (let i = 0; i < 100; i++) await store.claim(nonceOf(`n${i}`, 'gone'), c.now() + 5_000);
    c.advance(5_000);
    await store.claim(nonceOf('n', 'still-here'), c.now() + 5_000);
    expect(store.sizeOf('gone')).toBe(0);
    expect(store.size).toBe(1);
  });

  it('refuses a budget that is not a positive integer', () => {
    for (const maxNoncesPerCaller of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '10' as unknown as number]) {
      expect(() => new MemoryNonceStore({ maxNoncesPerCaller })).toThrow(/maxNoncesPerCaller must be a positive integer/);
    }
  });

  it('close() forgets everything', async () => {
    const store = new MemoryNonceStore();
    await store.claim(nonceOf('x'), Date.now() + 60_000);
    await store.close();
    expect(store.size).toBe(0);
    await expect(store.claim(nonceOf('x'), Date.now() + 60_000)).resolves.toBe(true);
  });
});

/**
 * The denial of service this store must not allow: ONE authenticated caller claiming nonces as fast as
 * it can must not get every other caller refused, and refusing it must not cost a pass over the store.
 * Checked here with a budget of 1 000 (what holds at 1 000 holds at the default, which is only a
 * larger number); bench/nonce-memory.bench.mjs fills a store to the default budget of 1 000 000 and
 * checks the same refusals there.
 */
describe('MemoryNonceStore, one caller flooding up to its budget', () => {
  const BUDGET = 1_000;
  const c = clock();
  const expiresAt = c.now() + 301_000;
  let store: MemoryNonceStore;
  let flooderRefusal: unknown;
  let iteration: ReturnType<typeof countIterations> | undefined;

  it('the default budget is 1 000 000 live nonces per caller', () => {
    expect(DEFAULT_MAX_NONCES_PER_CALLER).toBe(1_000_000);
  });

  beforeAll(async () => {
    store = new MemoryNonceStore({ now: c.now, maxNoncesPerCaller: BUDGET });
    for (let i = 0; i < BUDGET; i++) {
      try {
        await store.claim(nonceOf(`flood-${i}`, 'flooder'), expiresAt);
      } catch (error) {
        flooderRefusal = error;
        break;
      }
    }
  });

  afterEach(() => {
    iteration?.restore();
    iteration = undefined;
  });

  it('the flooder gets its whole share', () => {
    expect(flooderRefusal).toBeUndefined();
    expect(store.sizeOf('flooder')).toBe(BUDGET);
  });

  it('another caller is still served', async () => {
    await expect(store.claim(nonceOf('polite-1', 'polite'), expiresAt)).resolves.toBe(true);
    await expect(store.claim(nonceOf('polite-1', 'polite'), expiresAt)).resolves.toBe(false);
  });

  it('the flooder alone is refused, and the refusal enumerates no remembered nonce', async () => {
    iteration = countIterations();
    const refusal = rejectionOf(store.claim(nonceOf('one-more', 'flooder'), expiresAt)); // the store decides synchronously
    const steps = iteration.steps();
    iteration.restore();
    expect(steps).toBe(0);
    expect(await refusal).toBeInstanceOf(NonceBudgetExhaustedError);
    expect(store.sizeOf('flooder')).toBe(BUDGET);
  });

  it('a refused replay of a remembered nonce enumerates nothing either', async () => {
    iteration = countIterations();
    const replay = store.claim(nonceOf('flood-123', 'flooder'), expiresAt).catch((error: unknown) => error);
    const steps = iteration.steps();
    iteration.restore();
    expect(steps).toBe(0);
    await expect(replay).resolves.toBe(false);
  });
});
