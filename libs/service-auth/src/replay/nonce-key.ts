import { hash } from 'node:crypto';

/** Bytes of the SHA-256 digest kept: 128 bits. */
const KEY_BYTES = 16;

/**
 * What MemoryNonceStore keeps of a nonce: the first 128 bits of SHA-256 over the caller, the key id
 * and the nonce, as a fresh 16-character latin1 string. A fixed size, whatever the nonce's length (up
 * to 128 characters), so that what a caller's budget costs does not depend on the nonces it chooses
 * (bench/nonce-memory.bench.mjs); a fresh string, so that nothing of the Signature-Input header the
 * nonce was sliced from is kept alive.
 *
 * The caller and key id are each prefixed by their length, so no two different triples are encoded
 * alike. A replay is the same triple, hence the same key, and is always refused; two different
 * nonces meet only by a 128-bit collision of SHA-256, which nobody can produce (and which would only
 * get the second one refused, within the one caller's set).
 */
export function nonceKey(callerId: string, keyId: string, nonce: string): string {
  const digest = hash('sha256', `${callerId.length}:${callerId}${keyId.length}:${keyId}${nonce}`, 'buffer') as unknown as Buffer;
  return digest.toString('latin1', 0, KEY_BYTES);
}
