import { hmacSha256, verifyHmacSha256 } from '../protocol/hmac-sha256.js';

/**
 * Where an answer's signature base is signed and checked: the one place to change when answers are
 * signed with another algorithm than the pair's HMAC key.
 */
export function signAnswerBase(hmacKey: Uint8Array, base: string): Buffer {
  return hmacSha256(hmacKey, base);
}

export function verifyAnswerBase(hmacKey: Uint8Array, base: string, signature: Uint8Array): boolean {
  return verifyHmacSha256(hmacKey, base, signature);
}
