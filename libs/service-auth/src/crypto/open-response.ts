import { ServiceAuthError } from '../protocol/service-auth.error.js';
import { decryptCompact } from './jwe-compact.js';

/**
 * Opens an encrypted answer and checks that it answers this request: the protected header must
 * carry the nonce the request was signed with. A captured answer to another request, even one
 * encrypted under the right key, is refused.
 */
export function openResponse(
  jwe: string | Uint8Array,
  resolveKey: (kid: string) => Uint8Array | undefined,
  expectedNonce: string,
  maxBytes?: number,
): Buffer {
  const { plaintext, header } = decryptCompact(jwe, resolveKey, { maxBytes });
  if (header.nonce !== expectedNonce) {
    throw new ServiceAuthError('decryption_failed', 'The encrypted answer was not made for this request');
  }
  return plaintext;
}
