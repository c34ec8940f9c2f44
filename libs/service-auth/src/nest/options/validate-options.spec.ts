import { describe, it, expect } from '@jest/globals';
import { KeyConfigurationError } from '../../errors/key-configuration.error.js';
import type { ServiceAuthModuleOptions } from './service-auth-options.interface.js';
import { validateOptions } from './validate-options.js';

function messageOf(options: unknown): string {
  try {
    validateOptions(options as ServiceAuthModuleOptions);
  } catch (err) {
    expect(err).toBeInstanceOf(KeyConfigurationError);
    return (err as Error).message;
  }
  throw new Error('validateOptions accepted ' + JSON.stringify(options));
}

const base: ServiceAuthModuleOptions = { serviceId: 'order-service' };

describe('validateOptions', () => {
  it('accepts a minimal and a complete valid configuration', () => {
    expect(() => validateOptions(base)).not.toThrow();
    expect(() =>
      validateOptions({
        serviceId: 'inventory.v2_a~b',
        keys: { callers: [] },
        maxBodyBytes: 1024,
        replay: { maxAgeSeconds: 60, maxFutureSkewSeconds: 0 },
        encryption: 'required',
        guard: 'manual',
      }),
    ).not.toThrow();
    expect(() => validateOptions({ ...base, encryption: 'off' })).not.toThrow();
    expect(() => validateOptions({ ...base, encryption: 'optional' })).not.toThrow();
  });

  it('missing options are refused', () => {
    expect(messageOf(undefined)).toMatch(/options are required/);
    expect(messageOf('order-service')).toMatch(/options are required/);
  });

  it('a missing or invalid serviceId names the setting', () => {
    for (const serviceId of [undefined, '', 'order service', 'a:b', 42, 'x'.repeat(129)]) {
      expect(messageOf({ serviceId })).toMatch(/serviceId is required/);
    }
  });

  it('both keys and keyProvider names both settings', () => {
    const message = messageOf({ ...base, keys: {}, keyProvider: { load: () => ({}) } });
    expect(message).toContain('keys');
    expect(message).toContain('keyProvider');
  });

  it('a bad maxBodyBytes names the setting and the value', () => {
    for (const maxBodyBytes of [0, -1, 1.5, '1024', NaN, Infinity]) {
      const message = messageOf({ ...base, maxBodyBytes });
      expect(message).toContain('maxBodyBytes must be a positive integer');
    }
    expect(messageOf({ ...base, maxBodyBytes: '1024' })).toContain('"1024"');
  });

  it('a negative (or non-integer) future skew names replay.maxFutureSkewSeconds', () => {
    for (const maxFutureSkewSeconds of [-1, 0.5, '5']) {
      expect(messageOf({ ...base, replay: { maxFutureSkewSeconds } })).toContain(
        'replay.maxFutureSkewSeconds must be a non-negative integer',
      );
    }
  });

  it('a bad maxAgeSeconds names replay.maxAgeSeconds', () => {
    for (const maxAgeSeconds of [0, -300, 1.5]) {
      expect(messageOf({ ...base, replay: { maxAgeSeconds } })).toContain('replay.maxAgeSeconds must be a positive integer');
    }
  });

  it('a bad maxNoncesPerCaller names replay.maxNoncesPerCaller and the value', () => {
    expect(() => validateOptions({ ...base, replay: { maxNoncesPerCaller: 1 } })).not.toThrow();
    for (const maxNoncesPerCaller of [0, -1, 1.5, '1000', NaN, Infinity]) {
      const message = messageOf({ ...base, replay: { maxNoncesPerCaller } });
      expect(message).toContain('replay.maxNoncesPerCaller must be a positive integer');
      expect(message).toContain(JSON.stringify(maxNoncesPerCaller));
    }
  });

  it('maxNoncesPerCaller with a store it cannot bound (replay.store) is refused, naming both settings', () => {
    const withStore = messageOf({ ...base, replay: { maxNoncesPerCaller: 10, store: { claim: async () => true } } });
    expect(withStore).toContain('replay.maxNoncesPerCaller');
    expect(withStore).toContain('replay.store');
  });

  it('maxNoncesPerCaller bounds the Redis store too', () => {
    expect(() =>
      validateOptions({ ...base, replay: { maxNoncesPerCaller: 10, redis: { url: 'redis://u:hunter2@cache:6379' } } }),
    ).not.toThrow();
    const bad = messageOf({ ...base, replay: { maxNoncesPerCaller: 0, redis: { url: 'redis://u:hunter2@cache:6379' } } });
    expect(bad).toContain('replay.maxNoncesPerCaller must be a positive integer');
    expect(bad).not.toContain('hunter2');
  });

  it("guard is 'global' or 'manual'; anything else names the setting, the allowed values and the value", () => {
    for (const guard of ['global', 'manual', undefined] as const) expect(() => validateOptions({ ...base, guard })).not.toThrow();
    for (const guard of ['none', 'Global', 'off', 'auto', '', true, false, null, 0, ['global']]) {
      const message = messageOf({ ...base, guard });
      expect(message).toContain("guard must be 'global' or 'manual'");
      expect(message).toContain(JSON.stringify(guard));
    }
  });

  it("guard: 'none' says what a service that accepts no signed callers does instead", () => {
    expect(messageOf({ ...base, guard: 'none' })).toMatch(/does not register ServiceAuthModule.*SignedHttpModule\.register/);
  });

  it('a bad encryption policy names the setting and the allowed values', () => {
    for (const encryption of ['always', 'REQUIRED', '', true]) {
      const message = messageOf({ ...base, encryption });
      expect(message).toContain('encryption must be');
      expect(message).toContain("'required', 'optional' or 'off'");
    }
  });
});
