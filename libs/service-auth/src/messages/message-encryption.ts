import { decryptCompact, encryptCompact, JWE_DEFAULT_CTY } from '../crypto/jwe-compact.js';
import { parseDecryptedJson } from '../crypto/decrypted-json.js';
import { ServiceAuthError } from '../errors/service-auth.error.js';

/**
 * Encrypted message payloads (PROTOCOL.md "Signed messages", encrypted payloads): the JWE of
 * HTTP bodies (jwe-compact.ts: dir + A256GCM under the pair's encryption key) carried as the
 * envelope's `payload` text, then signed over, as an encrypted HTTP body is.
 */

/** How a handler takes encrypted messages: as HTTP's encryption policy (`@EncryptedBody()`, the module's `encryption`). */
export type MessageEncryptionPolicy = 'off' | 'optional' | 'required';

/** The key a payload is encrypted, or an answer sealed, with: the pair's, by key id. */
export interface MessageEncryptionKey {
  readonly id: string;
  readonly encryptionKey: Uint8Array;
}

/** The compact JWE of `json` under `key`; `nonce` (an answer's request nonce) goes in the protected header. */
export function sealPayload(json: string, key: MessageEncryptionKey, nonce?: string): string {
  return encryptCompact(Buffer.from(json, 'utf8'), key.encryptionKey, { kid: key.id, cty: JWE_DEFAULT_CTY, nonce });
}

/**
 * The JSON a sealed payload holds. Refusals are the HTTP ones (jwe_malformed, jwe_unsupported,
 * key_unknown, decryption_failed, body_too_large; body_malformed for a plaintext that is not JSON);
 * with `nonce`, a payload whose protected header does not carry it is `decryption_failed`.
 */
export function openPayload(
  payload: string,
  resolveKey: (kid: string) => Uint8Array | undefined,
  options: { maxBytes?: number; nonce?: string } = {},
): unknown {
  const { plaintext, header } = decryptCompact(payload, resolveKey, { maxBytes: options.maxBytes });
  if (options.nonce !== undefined && header.nonce !== options.nonce) {
    throw new ServiceAuthError('decryption_failed', 'The sealed payload was not made for this request');
  }
  try {
    return parseDecryptedJson(plaintext.toString('utf8'));
  } catch {
    throw new ServiceAuthError('body_malformed', 'The decrypted payload is not JSON, or has a __proto__ or constructor.prototype key');
  }
}
