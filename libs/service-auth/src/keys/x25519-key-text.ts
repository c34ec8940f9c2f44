import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { decodeBase64Text, isBase64Text } from './credential-shapes.js';
import { privateKeyText, publicKeyText } from './ed25519-key-text.js';

/**
 * X25519 keys as key lists hold them, the same way as Ed25519 ones: base64 or base64url of PKCS#8 DER
 * for a private key (48 bytes), of SubjectPublicKeyInfo DER for a public key (44 bytes).
 */
export type X25519KeyText = { kind: 'private'; key: KeyObject } | { kind: 'public'; key: KeyObject };

const PRIVATE_KEY_DER_BYTES = 48;
const PUBLIC_KEY_DER_BYTES = 44;

/** Reads an X25519 key; undefined for text that is neither an X25519 private nor public key. */
export function readX25519Key(text: string): X25519KeyText | undefined {
  const trimmed = text.trim();
  if (!isBase64Text(trimmed)) return undefined;
  const der = decodeBase64Text(trimmed);
  try {
    if (der.length === PRIVATE_KEY_DER_BYTES) {
      const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
      return key.asymmetricKeyType === 'x25519' ? { kind: 'private', key } : undefined;
    }
    if (der.length === PUBLIC_KEY_DER_BYTES) {
      const key = createPublicKey({ key: der, format: 'der', type: 'spki' });
      return key.asymmetricKeyType === 'x25519' ? { kind: 'public', key } : undefined;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** A fresh X25519 key pair, as key-list text. */
export function generateX25519KeyText(): { privateKey: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  return { privateKey: privateKeyText(privateKey), publicKey: publicKeyText(publicKey) };
}
