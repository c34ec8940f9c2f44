import { describe, expect, it } from '@jest/globals';
import { generateCredential } from './generate-credential.js';
import { KeyConfigurationError } from '../errors/key-configuration.error.js';
import { KeyRing, MIN_API_KEY_LENGTH, MIN_SECRET_BYTES } from './key-ring.js';
import { asHmacKey } from './key-ring.js';

describe('generateCredential', () => {
  it('makes an sk_ API key and a secret of 32 random bytes each, base64url, under a dated key id', () => {
    const key = generateCredential('order-service', { now: new Date('2026-11-05T10:00:00Z') });
    expect(key.id).toMatch(/^order-service-2026-11-[0-9a-f]{6}$/);
    expect(key.apiKey).toMatch(/^sk_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(key.apiKey.slice(3), 'base64url')).toHaveLength(32);
    expect(key.apiKey.length).toBeGreaterThanOrEqual(MIN_API_KEY_LENGTH);
    expect(key.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(key.secret, 'base64url')).toHaveLength(MIN_SECRET_BYTES);
  });

  it('is accepted by the key ring, on both ends of the pair', () => {
    const key = generateCredential('order-service');
    const callee = KeyRing.from({ callers: [{ id: 'order-service', keys: [key] }] }, 'inventory-service');
    const caller = KeyRing.from({ upstreams: [{ id: 'inventory-service', url: 'http://inventory:8082', keys: [key] }] }, 'order-service');
    expect(callee.findByApiKey(key.apiKey)?.id).toBe(key.id);
    expect(asHmacKey(caller.upstream('inventory-service')?.keys[0]).hmacKey).toEqual(
      asHmacKey(callee.findCallerKey('order-service', key.id)).hmacKey,
    );
  });

  it('never repeats itself: ids, API keys and secrets are fresh every time', () => {
    const keys = Array.from({ length: 50 }, () => generateCredential('order-service'));
    for (const part of ['id', 'apiKey', 'secret'] as const) expect(new Set(keys.map((key) => key[part])).size).toBe(50);
  });

  it('keeps the key id within the 128 characters of the key ring for the longest caller id', () => {
    const key = generateCredential('c'.repeat(128));
    expect(key.id).toHaveLength(128);
    expect(key.id).toMatch(/^c+-\d{4}-\d{2}-[0-9a-f]{6}$/);
  });

  it('takes a key id of your choosing', () => {
    expect(generateCredential('order-service', { keyId: 'order-2026-11' }).id).toBe('order-2026-11');
  });

  it('refuses the ids the key ring refuses, without echoing them', () => {
    const pasted = 'k1:sk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA:c2VjcmV0';
    expect(() => generateCredential(pasted)).toThrow(KeyConfigurationError);
    expect(() => generateCredential(pasted)).toThrow(/caller id must be 1-128 characters of A-Z a-z 0-9 \. _ ~ -$/);
    expect(() => generateCredential('order service')).toThrow(KeyConfigurationError);
    expect(() => generateCredential('c'.repeat(129))).toThrow(KeyConfigurationError);
    expect(() => generateCredential('order-service', { keyId: 'a/b' })).toThrow(/key id must be/);
  });
});
