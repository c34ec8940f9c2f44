import { describe, expect, it } from '@jest/globals';
import { KeyConfigurationError } from '../errors/key-configuration.error.js';
import { appliesTo, resolveClientOptions } from './resolved-client-options.js';
import type { SignedHttpModuleOptions } from './signed-http-options.js';
import { validateClientOptions } from './validate-client-options.js';

function messageOf(options: unknown): string {
  try {
    validateClientOptions(options as SignedHttpModuleOptions);
  } catch (err) {
    expect(err).toBeInstanceOf(KeyConfigurationError);
    return (err as Error).message;
  }
  throw new Error('validateClientOptions accepted ' + JSON.stringify(options));
}

const base: SignedHttpModuleOptions = { serviceId: 'order-service' };

describe('resolveClientOptions', () => {
  it('fills in every default of the client options', () => {
    expect(resolveClientOptions(base)).toEqual({
      serviceId: 'order-service',
      keys: undefined,
      keyProvider: undefined,
      timeoutMs: 5000,
      encrypt: false,
      coverAuthority: false,
      verifyAnswers: true,
      retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 2000 },
      circuitBreaker: { consecutiveFailures: 5, halfOpenAfterMs: 10_000 },
      maxResponseBytes: 10 * 1024 * 1024,
      maxRequestBytes: 10 * 1024 * 1024,
    });
  });

  it('keeps what is set, and a default for each member left out or undefined', () => {
    expect(
      resolveClientOptions({
        ...base,
        timeoutMs: 100,
        encrypt: ['inventory-service'],
        coverAuthority: ['admin-service'],
        retry: { maxAttempts: 5, baseDelayMs: undefined },
        circuitBreaker: { halfOpenAfterMs: 1000 },
      }),
    ).toMatchObject({
      timeoutMs: 100,
      encrypt: ['inventory-service'],
      coverAuthority: ['admin-service'],
      retry: { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 2000 },
      circuitBreaker: { consecutiveFailures: 5, halfOpenAfterMs: 1000 },
    });
  });

  it('retry: false and circuitBreaker: false stay off', () => {
    expect(resolveClientOptions({ ...base, retry: false, circuitBreaker: false })).toMatchObject({ retry: false, circuitBreaker: false });
  });

  it('appliesTo: true for every upstream, a list for those it names, false for none', () => {
    expect(appliesTo(true, 'a')).toBe(true);
    expect(appliesTo(false, 'a')).toBe(false);
    expect(appliesTo(['a'], 'a')).toBe(true);
    expect(appliesTo(['a'], 'b')).toBe(false);
  });
});

describe('validateClientOptions', () => {
  it('accepts a minimal and a complete valid configuration', () => {
    expect(() => validateClientOptions(base)).not.toThrow();
    expect(() =>
      validateClientOptions({
        serviceId: 'order.v2_a~b',
        keys: { upstreams: [] },
        timeoutMs: 1000,
        encrypt: ['inventory-service'],
        coverAuthority: true,
        retry: { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0 },
        circuitBreaker: { consecutiveFailures: 1, halfOpenAfterMs: 1 },
        maxResponseBytes: 1,
        maxRequestBytes: 64 * 1024 * 1024,
      }),
    ).not.toThrow();
  });

  it('missing options, a missing or malformed serviceId, and both keys and keyProvider are refused', () => {
    expect(messageOf(undefined)).toBe('SignedHttpModule: options are required');
    expect(messageOf({})).toMatch(/^SignedHttpModule: serviceId is required/);
    expect(messageOf({ serviceId: 'order service' })).toMatch(/serviceId is required/);
    expect(messageOf({ ...base, keys: {}, keyProvider: { load: () => ({}) } })).toContain('either keys or keyProvider');
  });

  it('timeoutMs, maxResponseBytes and maxRequestBytes: positive integers, each named with the value', () => {
    for (const setting of ['timeoutMs', 'maxResponseBytes', 'maxRequestBytes']) {
      for (const value of [0, -1, 1.5, '10485760', NaN, Infinity, null]) {
        expect(messageOf({ ...base, [setting]: value })).toContain(`SignedHttpModule: ${setting} must be a positive integer`);
      }
      expect(messageOf({ ...base, [setting]: '1mb' })).toContain('"1mb"');
    }
  });

  it('retry and circuitBreaker: objects of integers, or false', () => {
    expect(() => validateClientOptions({ ...base, retry: false, circuitBreaker: false })).not.toThrow();
    expect(messageOf({ ...base, retry: true })).toContain('retry must be an object or false');
    expect(messageOf({ ...base, retry: { maxAttempts: 0 } })).toContain('retry.maxAttempts must be a positive integer');
    expect(messageOf({ ...base, retry: { baseDelayMs: -1 } })).toContain('retry.baseDelayMs must be a non-negative integer');
    expect(messageOf({ ...base, retry: { maxDelayMs: 1.5 } })).toContain('retry.maxDelayMs');
    expect(messageOf({ ...base, circuitBreaker: 5 })).toContain('circuitBreaker must be an object or false');
    expect(messageOf({ ...base, circuitBreaker: { consecutiveFailures: 0 } })).toContain('circuitBreaker.consecutiveFailures');
    expect(messageOf({ ...base, circuitBreaker: { halfOpenAfterMs: '10s' } })).toContain('circuitBreaker.halfOpenAfterMs');
  });

  it.each(['encrypt', 'coverAuthority'])('%s is true, false or a list of upstream ids, never URLs', (setting) => {
    for (const value of [true, false, [], ['inventory-service'], ['inventory-service', 'billing.v2'], undefined]) {
      expect(() => validateClientOptions({ ...base, [setting]: value })).not.toThrow();
    }
    for (const value of ['inventory-service', 'true', 1, {}, { 'inventory-service': true }, [1], [null], ['a', 42], null]) {
      expect(messageOf({ ...base, [setting]: value })).toMatch(
        new RegExp(`^SignedHttpModule: ${setting} must be true, false or a list of upstream ids`),
      );
    }
    expect(messageOf({ ...base, [setting]: ['http://inventory:8082'] })).toMatch(/not URLs/);
  });
});
