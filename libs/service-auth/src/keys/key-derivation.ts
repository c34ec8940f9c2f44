import { hkdfSync } from 'node:crypto';

/**
 * The HMAC key and the encryption key are derived from one shared secret with HKDF-SHA256
 * (RFC 5869) under distinct labels, so one secret is distributed and rotated per credential while
 * the two keys stay cryptographically independent: a signing key is never also an encryption key.
 */
export const HMAC_KEY_INFO = 'nest-service-auth/v1 hmac-sha256';
export const ENCRYPTION_KEY_INFO = 'nest-service-auth/v1 a256gcm';

export interface DerivedKeys {
  hmacKey: Buffer;
  encryptionKey: Buffer;
}

export function deriveKeys(secret: Uint8Array): DerivedKeys {
  const derive = (info: string) => Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), info, 32));
  return { hmacKey: derive(HMAC_KEY_INFO), encryptionKey: derive(ENCRYPTION_KEY_INFO) };
}
