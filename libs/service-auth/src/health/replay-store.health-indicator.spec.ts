import { describe, expect, it } from '@jest/globals';
import { MemoryNonceStore } from '../replay/memory-nonce-store.js';
import type { NonceStore } from '../replay/nonce-store.interface.js';
import { ReplayStoreUnavailableError } from '../replay/replay-store-unavailable.error.js';
import { ReplayStoreHealthIndicator } from './replay-store.health-indicator.js';

describe('ReplayStoreHealthIndicator', () => {
  it('up when the store answers its ping, under the given key (default replay_store)', async () => {
    const indicator = new ReplayStoreHealthIndicator(new MemoryNonceStore());
    await expect(indicator.isHealthy()).resolves.toEqual({ replay_store: { status: 'up' } });
    await expect(indicator.isHealthy('nonces')).resolves.toEqual({ nonces: { status: 'up' } });
  });

  it('down, with the store’s message, when its ping rejects: returned, not thrown (terminus answers 503)', async () => {
    const store: NonceStore = {
      claim: async () => true,
      ping: async () => {
        throw new ReplayStoreUnavailableError('Replay store unavailable: Redis did not answer within 250 ms');
      },
    };
    await expect(new ReplayStoreHealthIndicator(store).isHealthy()).resolves.toEqual({
      replay_store: { status: 'down', message: 'Replay store unavailable: Redis did not answer within 250 ms' },
    });
  });

  it('a store without ping() is reported up', async () => {
    await expect(new ReplayStoreHealthIndicator({ claim: async () => true }).isHealthy()).resolves.toEqual({ replay_store: { status: 'up' } });
  });

  it('the in-process store is down while full of live nonces (every claim would be refused), up once they expire', async () => {
    let now = 1_000_000;
    const store = new MemoryNonceStore({ maxEntries: 2, now: () => now });
    await store.claim('a', now + 1000);
    await store.claim('b', now + 1000);
    const indicator = new ReplayStoreHealthIndicator(store);
    await expect(indicator.isHealthy()).resolves.toEqual({ replay_store: { status: 'down', message: 'nonce store is full (2 live nonces)' } });
    now += 1001;
    await expect(indicator.isHealthy()).resolves.toEqual({ replay_store: { status: 'up' } });
    await expect(store.claim('c', now + 1000)).resolves.toBe(true);
  });
});
