import { describe, it, expect } from '@jest/globals';
import { deriveKeys } from '../keys/key-derivation.js';
import { signRequest } from './request-signer.js';

// The worked example of PROTOCOL.md §1.1 and §2.1: if this fails, the document is wrong.
describe('PROTOCOL.md worked example', () => {
  const secret = Buffer.from('uzvJfB4u3N0Jy4T7NZ75MDVcr8zSTInedJtkgcu46YW4XByzNJjxBdtjUkdJPBtbmHhIDi6pcl8jsasjlTMtDQ==', 'base64');
  const keys = deriveKeys(secret);

  it('derives the documented HMAC and encryption keys', () => {
    expect(keys.hmacKey.toString('hex')).toBe('2462f02c48f9973702b7a2a8595ba160ea1f3f0471ba0f06827521436750b10c');
    expect(keys.encryptionKey.toString('hex')).toBe('1993efabae79b330f8b179ad0c44ed0ea5d3faab4399d0695655255739e1ccaa');
  });

  it('produces the documented headers', () => {
    const headers = signRequest(
      {
        method: 'POST',
        url: 'http://inventory.internal:8082/api/inventory',
        headers: { 'Content-Type': 'application/json', 'Idempotency-Key': '8e0b6c2e-5f7a-4d8e-9c1b-2a3f4e5d6c7b' },
        body: Buffer.from('{"productId":"P123","quantity":2}'),
      },
      { id: 'order-2026-11', apiKey: 'sk_example_0123456789abcdefghijklmnopqrstuv', hmacKey: keys.hmacKey },
      { created: 1764100000, nonce: '3q2-7wAAAAAAAAAAAAAAAA' },
    );
    expect(headers).toEqual({
      'x-api-key': 'sk_example_0123456789abcdefghijklmnopqrstuv',
      'content-digest': 'sha-256=:ohM/6xzotIjSYedZtfXrf7BiYQNVNUoxQgJj6yB2uxQ=:',
      'signature-input':
        'sig1=("@method" "@path" "@query" "x-api-key" "content-type" "content-digest" "idempotency-key");created=1764100000;nonce="3q2-7wAAAAAAAAAAAAAAAA";keyid="order-2026-11";alg="hmac-sha256"',
      signature: 'sig1=:TrmNoNS/ShP1en+CvFMnOgWgKH2n/g1O9GC8cpmKUTs=:',
    });
  });
});
