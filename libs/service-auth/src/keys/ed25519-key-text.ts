import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { decodeBase64Text, isBase64Text } from './credential-shapes.js';

/**
 * Ed25519 keys as key lists hold them: base64 or base64url of the DER that OpenSSL and every
 * crypto library read and write, PKCS#8 for a private key (48 bytes) and SubjectPublicKeyInfo for a
 * public key (44 bytes). The two lengths differ, so a private key pasted where a public key belongs
 * (on a callee, which must hold no secret of its caller) is recognised and refused.
 */
export const ED25519_PRIVATE_KEY_DER_BYTES = 48;
export const ED25519_PUBLIC_KEY_DER_BYTES = 44;

export type Ed25519KeyText = { kind: 'private'; key: KeyObject } | { kind: 'public'; key: KeyObject };

/** Reads an Ed25519 key; undefined for text that is neither an Ed25519 private nor public key. */
export function readEd25519Key(text: string): Ed25519KeyText | undefined {
  const trimmed = text.trim();
  if (!isBase64Text(trimmed)) return undefined;
  const der = decodeBase64Text(trimmed);
  try {
    if (der.length === ED25519_PRIVATE_KEY_DER_BYTES) {
      const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
      return key.asymmetricKeyType === 'ed25519' ? { kind: 'private', key } : undefined;
    }
    if (der.length === ED25519_PUBLIC_KEY_DER_BYTES) {
      const key = createPublicKey({ key: der, format: 'der', type: 'spki' });
      return key.asymmetricKeyType === 'ed25519' ? { kind: 'public', key } : undefined;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** base64url of a private key's PKCS#8 DER. */
export function privateKeyText(key: KeyObject): string {
  return key.export({ format: 'der', type: 'pkcs8' }).toString('base64url');
}

/** base64url of a public key's SubjectPublicKeyInfo DER. */
export function publicKeyText(key: KeyObject): string {
  return key.export({ format: 'der', type: 'spki' }).toString('base64url');
}

/** A fresh Ed25519 key pair, as key-list text. */
export function generateEd25519KeyText(): { privateKey: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey: privateKeyText(privateKey), publicKey: publicKeyText(publicKey) };
}
