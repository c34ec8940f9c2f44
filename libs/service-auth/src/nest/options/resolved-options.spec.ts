import { describe, expect, it } from '@jest/globals';
import { KeyConfigurationError } from '../../errors/key-configuration.error.js';
import { MemoryNonceStore } from '../../replay/memory-nonce-store.js';
import { resolveOptions } from './resolved-options.js';

describe('resolveOptions', () => {
  it('fills in every default of the module options', () => {
    expect(resolveOptions({ serviceId: 'inventory-service' })).toEqual({
      serviceId: 'inventory-service',
      guard: 'global',
      keys: undefined,
      keyProvider: undefined,
      replay: { maxAgeSeconds: 300, maxFutureSkewSeconds: 5, store: undefined, redis: undefined, maxNoncesPerCaller: 1_000_000 },
      maxBodyBytes: 1024 * 1024,
      requiredComponents: [],
      encryption: 'optional',
      signAnswers: true,
      metrics: false,
      logging: { strangerRefusalsPerSecond: 10 },
    });
  });

  it('keeps what is set, and a default for each member left out or undefined', () => {
    const store = new MemoryNonceStore();
    const resolved = resolveOptions({
      serviceId: 'order-service',
      guard: 'manual',
      maxBodyBytes: 4096,
      encryption: 'required',
      requiredComponents: ['content-type'],
      replay: { maxAgeSeconds: 60, store },
    });
    expect(resolved).toMatchObject({ guard: 'manual', maxBodyBytes: 4096, encryption: 'required', requiredComponents: ['content-type'] });
    expect(resolved.replay).toMatchObject({ maxAgeSeconds: 60, maxFutureSkewSeconds: 5, store });
  });

  it('validates first: a bad setting is a KeyConfigurationError naming it', () => {
    expect(() => resolveOptions({ serviceId: 'order-service', maxBodyBytes: -1 })).toThrow(KeyConfigurationError);
    expect(() => resolveOptions({ serviceId: 'order-service', maxBodyBytes: -1 })).toThrow(/maxBodyBytes/);
  });

  it('logging.strangerRefusalsPerSecond: a non-negative integer or Infinity', () => {
    const perSecond = (strangerRefusalsPerSecond: number) =>
      resolveOptions({ serviceId: 'inventory-service', logging: { strangerRefusalsPerSecond } }).logging.strangerRefusalsPerSecond;
    expect(perSecond(0)).toBe(0);
    expect(perSecond(250)).toBe(250);
    expect(perSecond(Infinity)).toBe(Infinity);
    for (const bad of [-1, 1.5, NaN, -Infinity]) {
      expect(() => perSecond(bad)).toThrow(/logging\.strangerRefusalsPerSecond must be a non-negative integer/);
    }
    expect(() => perSecond('10' as unknown as number)).toThrow(KeyConfigurationError);
  });
});
