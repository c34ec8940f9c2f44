import { createHmac, sign, timingSafeEqual, verify, type KeyObject } from 'node:crypto';

/**
 * The RFC 9421 algorithms this library signs and verifies with (§3.3.3 hmac-sha256, §3.3.6 ed25519),
 * and the one place where an algorithm name becomes a computation: the request signer and verifier,
 * the answer signer and verifier, and any other message path sign and verify through these two
 * functions. An algorithm is a property of a credential, never taken from a message on trust.
 */
export const SIGNATURE_ALGORITHMS = ['hmac-sha256', 'ed25519'] as const;
export type SignatureAlgorithm = (typeof SIGNATURE_ALGORITHMS)[number];

export function isSignatureAlgorithm(value: unknown): value is SignatureAlgorithm {
  return typeof value === 'string' && (SIGNATURE_ALGORITHMS as readonly string[]).includes(value);
}

/** What signs: a shared HMAC key, or an Ed25519 private key. */
export type SigningKey =
  { readonly algorithm: 'hmac-sha256'; readonly key: Uint8Array } | { readonly algorithm: 'ed25519'; readonly key: KeyObject };

/** What verifies: the same shared HMAC key, or the signer's Ed25519 public key. */
export type VerificationKey =
  { readonly algorithm: 'hmac-sha256'; readonly key: Uint8Array } | { readonly algorithm: 'ed25519'; readonly key: KeyObject };

/** The signature of a UTF-8 signature base. */
export function signBase(signer: SigningKey, signatureBase: string): Buffer {
  const data = Buffer.from(signatureBase, 'utf8');
  if (signer.algorithm === 'ed25519') return sign(null, data, signer.key);
  return createHmac('sha256', signer.key).update(data).digest();
}

/** Whether `received` is a valid signature of the base; HMAC compared in constant time, a wrong length simply false. */
export function verifyBase(verifier: VerificationKey, signatureBase: string, received: Uint8Array): boolean {
  const data = Buffer.from(signatureBase, 'utf8');
  if (verifier.algorithm === 'ed25519') return received.length === ED25519_SIGNATURE_BYTES && verify(null, data, verifier.key, received);
  const expected = createHmac('sha256', verifier.key).update(data).digest();
  return received.length === expected.length && timingSafeEqual(expected, received);
}

const ED25519_SIGNATURE_BYTES = 64;
