import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { MemoryNonceStore } from './memory-nonce-store.js';
import { nonceKey } from './nonce-key.js';

/**
 * Two different nonces with the same key whatever the seed: MurmurHash3's block step can be undone, so
 * a difference that one block leaves in bit 31 of h1 alone (k1 mixed differing in bit 12, k4 mixed in
 * bit 18: h4's two additions of 2^31 cancel) is cancelled by the next (k1 mixed differing in bit 31).
 * Built from the hash's constants, with code units outside printable ASCII.
 */
function collidingNonces(keyIdLength: number, a: number, b: number, c: number): [string, string] {
  const C1 = 0x239b961b;
  const C2 = 0xab0e9789;
  const C4 = 0xa1e38b93;
  const inverse = (x: number) => {
    let y = 1n;
    for (let i = 0; i < 5; i++) y = (y * (2n - BigInt(x >>> 0) * y)) & 0xffffffffn;
    return Number(y) | 0;
  };
  const rotl = (x: number, r: number) => (x << r) | (x >>> (32 - r));
  const rotr = (x: number, r: number) => (x >>> r) | (x << (32 - r));
  const mix = (k: number, p: number, r: number, q: number) => Math.imul(rotl(Math.imul(k, p), r), q);
  const unmix = (m: number, p: number, r: number, q: number) => Math.imul(rotr(Math.imul(m, inverse(q)), r), inverse(p));
  const units = (w: number) => [w & 0xffff, w >>> 16];
  const k1b = unmix(mix(a, C1, 15, C2) ^ 0x00001000, C1, 15, C2);
  const k4b = unmix(mix(b, C4, 18, C1) ^ 0x00040000, C4, 18, C1);
  const j1b = unmix(mix(c, C1, 15, C2) ^ 0x80000000, C1, 15, C2);
  // `keyId:` and a filler end on a block boundary; then the two blocks, then a tail.
  const filler: number[] = Array<number>((8 - ((keyIdLength + 1) % 8)) % 8 || 8).fill(0x61);
  const blockA = (x: number, y: number) => [...units(x), 0x62, 0x62, 0x62, 0x62, ...units(y)];
  const blockB = (x: number) => [...units(x), 0x63, 0x63, 0x63, 0x63, 0x63, 0x63];
  const tail: number[] = Array<number>(10).fill(0x64);
  return [
    String.fromCharCode(...filler, ...blockA(a, b), ...blockB(c), ...tail),
    String.fromCharCode(...filler, ...blockA(k1b, k4b), ...blockB(j1b), ...tail),
  ];
}

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

  it('is not collision-resistant, and a collision costs only the signer its own request', async () => {
    const [first, second] = collidingNonces('k1'.length, 0x41414141, 0x42424242, 0x43434343);
    expect(first).not.toBe(second);
    expect(nonceKey('k1', first)).toBe(nonceKey('k1', second));
    const store = new MemoryNonceStore();
    const until = Date.now() + 60_000;
    expect(await store.claim({ callerId: 'order-service', keyId: 'k1', nonce: first }, until)).toBe(true);
    // the signer's own second nonce is taken for a replay of its first…
    expect(await store.claim({ callerId: 'order-service', keyId: 'k1', nonce: second }, until)).toBe(false);
    // …and nobody else is touched: another caller, or the same caller's other key, may send that nonce
    expect(await store.claim({ callerId: 'audit-service', keyId: 'k1', nonce: second }, until)).toBe(true);
    expect(await store.claim({ callerId: 'order-service', keyId: 'k2', nonce: second }, until)).toBe(true);
    // while a replay stays a replay
    expect(await store.claim({ callerId: 'order-service', keyId: 'k1', nonce: first }, until)).toBe(false);
    void store.close?.();
  });
});
