import type { SignatureAlgorithm, SigningKey, VerificationKey } from '../crypto/signature-algorithm.js';
import type { KeyRing, ResolvedKey, ResolvedUpstream } from './key-ring.js';

/**
 * The key a callee signs its answer to a request verified with `key`: for an hmac-sha256 pair the
 * pair's answer key (derived under its own label, so no request key signs an answer), for an
 * ed25519 pair this service's own answer key. Undefined when there is none.
 */
export function answerSigningKey(key: ResolvedKey, ring: KeyRing): (SigningKey & { readonly id: string }) | undefined {
  if (key.algorithm === 'hmac-sha256') return { id: key.id, algorithm: 'hmac-sha256', key: key.answerKey };
  const own = ring.answerSigningKey;
  return own?.privateKey ? { id: own.id, algorithm: 'ed25519', key: own.privateKey } : undefined;
}

/**
 * The key a caller checks an answer from `upstream` with, by the answer's keyid and alg: one of the
 * pair's hmac-sha256 keys (its answer key), or one of the upstream's ed25519 answer keys.
 */
export function answerVerificationKey(
  upstream: ResolvedUpstream,
  keyId: string,
  algorithm: SignatureAlgorithm,
): VerificationKey | undefined {
  if (algorithm === 'ed25519') {
    const answerKey = upstream.answerKeys.find((k) => k.id === keyId);
    return answerKey && { algorithm: 'ed25519', key: answerKey.publicKey };
  }
  const key = upstream.keys.find((k) => k.id === keyId);
  return key?.algorithm === 'hmac-sha256' ? { algorithm: 'hmac-sha256', key: key.answerKey } : undefined;
}
