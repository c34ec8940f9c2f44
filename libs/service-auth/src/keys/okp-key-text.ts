import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { decodeBase64Text, isBase64Text } from './credential-shapes.js';

/**
 * Ed25519 and X25519 keys (JOSE's "octet key pairs") as key lists hold them: base64 or base64url of
 * the DER that OpenSSL and every crypto library read and write, PKCS#8 for a private key (48 bytes)
 * and SubjectPublicKeyInfo for a public key (44 bytes). The two lengths differ, so a private key
 * pasted where a public key belongs (on a callee, which must hold no secret of its caller) is
 * recognised and refused.
 */
export type OkpKeyType = 'ed25519' | 'x25519';

export type OkpKeyText = { kind: 'private'; key: KeyObject } | { kind: 'public'; key: KeyObject };

const PRIVATE_KEY_DER_BYTES = 48;
const PUBLIC_KEY_DER_BYTES = 44;

/** Reads a key of `type`; undefined for text that is neither a private nor a public key of that type. */
export function readOkpKeyText(text: string, type: OkpKeyType): OkpKeyText | undefined {
  const trimmed = text.trim();
  if (!isBase64Text(trimmed)) return undefined;
  const der = decodeBase64Text(trimmed);
  try {
    if (der.length === PRIVATE_KEY_DER_BYTES) {
      const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
      return key.asymmetricKeyType === type ? { kind: 'private', key } : undefined;
    }
    if (der.length === PUBLIC_KEY_DER_BYTES) {
      const key = createPublicKey({ key: der, format: 'der', type: 'spki' });
      return key.asymmetricKeyType === type ? { kind: 'public', key } : undefined;
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

/** A fresh key pair of `type`, as key-list text. */
function generateOkpKeyText(type: OkpKeyType): { privateKey: string; publicKey: string } {
  const { privateKey, publicKey } = type === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('x25519');
  return { privateKey: privateKeyText(privateKey), publicKey: publicKeyText(publicKey) };
}

/** A fresh Ed25519 key pair (a caller's signing key, a callee's answer key), as key-list text. */
export function generateEd25519KeyText(): { privateKey: string; publicKey: string } {
  return generateOkpKeyText('ed25519');
}

/** A fresh X25519 key pair (a callee's encryption key), as key-list text. */
export function generateX25519KeyText(): { privateKey: string; publicKey: string } {
  return generateOkpKeyText('x25519');
}
