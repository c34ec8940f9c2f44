import { describe, expect, it } from '@jest/globals';
import { MemoryNonceStore } from '../replay/memory-nonce-store.js';
import type { NonceStore } from '../replay/nonce-store.interface.js';
import { ReplayStoreUnavailableError } from '../errors/replay-store-unavailable.error.js';
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
    await expect(new ReplayStoreHealthIndicator({ claim: async () => true }).isHealthy()).resolves.toEqual({
      replay_store: { status: 'up' },
    });
  });

  it('the in-process store stays up when one caller is at its budget: that caller is refused, not the service', async () => {
    const now = 1_000_000;
    const store = new MemoryNonceStore({ maxNoncesPerCaller: 1, now: () => now });
    await expect(store.claim({ callerId: 'a', keyId: 'k', nonce: 'n1' }, now + 1000)).resolves.toBe(true);
    await expect(store.claim({ callerId: 'a', keyId: 'k', nonce: 'n2' }, now + 1000)).rejects.toThrow();
    await expect(new ReplayStoreHealthIndicator(store).isHealthy()).resolves.toEqual({ replay_store: { status: 'up' } });
    await expect(store.claim({ callerId: 'b', keyId: 'k', nonce: 'n1' }, now + 1000)).resolves.toBe(true);
  });
});
