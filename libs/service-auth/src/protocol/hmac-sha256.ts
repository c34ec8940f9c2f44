import { createHmac, timingSafeEqual } from 'node:crypto';

/** RFC 9421 §3.3.3 hmac-sha256: HMAC over the UTF-8 signature base. */
export function hmacSha256(key: Uint8Array, signatureBase: string): Buffer {
  return createHmac('sha256', key).update(signatureBase, 'utf8').digest();
}

/** Constant-time check of a received signature; a length mismatch is simply false. */
export function verifyHmacSha256(key: Uint8Array, signatureBase: string, received: Uint8Array): boolean {
  const expected = hmacSha256(key, signatureBase);
  return received.length === expected.length && timingSafeEqual(expected, received);
}
