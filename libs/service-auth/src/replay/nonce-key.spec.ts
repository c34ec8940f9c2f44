import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { nonceKey } from './nonce-key.js';

describe('nonceKey', () => {
  it('is the same for the same key id and nonce, and 8 characters whatever the nonce length', () => {
    for (const nonce of ['a'.repeat(22), randomBytes(16).toString('base64url'), 'x'.repeat(128), '']) {
      expect(nonceKey('k1', nonce)).toBe(nonceKey('k1', `${nonce}`));
      expect(nonceKey('k1', nonce)).toHaveLength(8);
    }
  });

  it('differs between nonces, between key ids, and where only the split between them or zero padding differs', () => {
    const keys = new Set<string>();
    const inputs: Array<[string, string]> = [
      ['k1', 'abcdefghijklmnopqrstuv'],
      ['k2', 'abcdefghijklmnopqrstuv'],
      ['k1', 'abcdefghijklmnopqrstuw'],
      ['k1a', 'bcdefghijklmnopqrstuv'],
      ['k', '1abcdefghijklmnopqrstuv'],
      ['k1', 'abcdefghijklmnopqrstuv\u0000'],
      ['k1', 'abcdefghijklmnopqrstuv\u0000\u0000'],
    ];
    for (const [keyId, nonce] of inputs) keys.add(nonceKey(keyId, nonce));
    expect(keys.size).toBe(inputs.length);
  });

  it('gives 200 000 random nonces 200 000 different keys', () => {
    const keys = new Set<string>();
    for (let i = 0; i < 200_000; i++) keys.add(nonceKey('order-service-key-1', randomBytes(16).toString('base64url')));
    expect(keys.size).toBe(200_000);
  });

  it('gives sequential nonces (a counter, not random) different keys', () => {
    const keys = new Set<string>();
    for (let i = 0; i < 200_000; i++) keys.add(nonceKey('k1', `request-${String(i).padStart(22, '0')}`));
    expect(keys.size).toBe(200_000);
  });
});
