import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { nonceKey } from './nonce-key.js';

describe('nonceKey', () => {
  it('is the same for the same caller, key id and nonce, and 16 characters whatever the nonce length', () => {
    for (const nonce of ['a'.repeat(22), randomBytes(16).toString('base64url'), 'x'.repeat(128), '']) {
      expect(nonceKey('order-service', 'k1', nonce)).toBe(nonceKey('order-service', 'k1', `${nonce}`));
      expect(nonceKey('order-service', 'k1', nonce)).toHaveLength(16);
    }
  });

  it('differs between callers, key ids and nonces, and where only the split between them differs', () => {
    const keys = new Set<string>();
    const inputs: Array<[string, string, string]> = [
      ['order', 'k1', 'abcdefghijklmnopqrstuv'],
      ['audit', 'k1', 'abcdefghijklmnopqrstuv'],
      ['order', 'k2', 'abcdefghijklmnopqrstuv'],
      ['order', 'k1', 'abcdefghijklmnopqrstuw'],
      ['order', 'k1a', 'bcdefghijklmnopqrstuv'],
      ['order', 'k', '1abcdefghijklmnopqrstuv'],
      ['orderk', '1', 'abcdefghijklmnopqrstuv'],
      ['order', '', 'k1abcdefghijklmnopqrstuv'],
      ['', 'orderk1', 'abcdefghijklmnopqrstuv'],
      ['1:a', '1:b', 'c'],
      ['1', 'a1:b', 'c'],
      ['order', 'k1', 'abcdefghijklmnopqrstuv\u0000'],
    ];
    for (const [callerId, keyId, nonce] of inputs) keys.add(nonceKey(callerId, keyId, nonce));
    expect(keys.size).toBe(inputs.length);
  });

  // At scale (1 000 000 nonces in one store, each its own key) this is bench/nonce-memory.bench.mjs's check.
  it('gives 1 000 random nonces 1 000 different keys', () => {
    const keys = new Set<string>();
    for (let i = 0; i < 1_000; i++) keys.add(nonceKey('order-service', 'order-service-key-1', randomBytes(16).toString('base64url')));
    expect(keys.size).toBe(1_000);
  });

  it('gives sequential nonces (a counter, not random) different keys', () => {
    const keys = new Set<string>();
    for (let i = 0; i < 1_000; i++) keys.add(nonceKey('order-service', 'k1', `request-${String(i).padStart(22, '0')}`));
    expect(keys.size).toBe(1_000);
  });
});
