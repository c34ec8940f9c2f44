import { hkdfSync } from 'node:crypto';

/**
 * The HMAC key and the encryption key are derived from one shared secret with HKDF-SHA256
 * (RFC 5869) under distinct labels, so one secret is distributed and rotated per credential while
 * the keys stay cryptographically independent: a signing key is never also an encryption key, and
 * the answer key (which signs responses) is never a request key.
 */
export const HMAC_KEY_INFO = 'nest-service-auth/v1 hmac-sha256';
export const ENCRYPTION_KEY_INFO = 'nest-service-auth/v1 a256gcm';
/** The key the callee signs its answers with: never the request key, so no request signature can pass for an answer's. */
export const ANSWER_KEY_INFO = 'nest-service-auth/v1 response hmac-sha256';

export interface DerivedKeys {
  hmacKey: Buffer;
  encryptionKey: Buffer;
  answerKey: Buffer;
}

export function deriveKeys(secret: Uint8Array): DerivedKeys {
  const derive = (info: string) => Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), info, 32));
  return { hmacKey: derive(HMAC_KEY_INFO), encryptionKey: derive(ENCRYPTION_KEY_INFO), answerKey: derive(ANSWER_KEY_INFO) };
}
