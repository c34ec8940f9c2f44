import { ServiceAuthError } from '../errors/service-auth.error.js';
import type { KeyObject } from 'node:crypto';
import { decryptCompact, type JweProtectedHeader } from './jwe-compact.js';
import { decryptEcdhEs } from './ecdh-es-jwe.js';

/** What an encrypted answer must be bound to: the request it answers and the status it came with. */
export interface ExpectedAnswer {
  /** The nonce the request was signed with. */
  nonce: string;
  /** The HTTP status the answer arrived with. */
  status: number;
}

/**
 * Opens an encrypted answer and checks that it answers this request with this status: the protected
 * header must carry the nonce the request was signed with and, as a JSON number, the status received.
 * A captured answer to another request, even one encrypted under the right key, is refused; so is a
 * genuine answer whose status was changed in transit (a sealed 202 "accepted" passed off as 200).
 */
export function openResponse(
  jwe: string | Uint8Array,
  resolveKey: (kid: string) => Uint8Array | undefined,
  expected: ExpectedAnswer,
  maxBytes?: number,
): Buffer {
  const { plaintext, header } = decryptCompact(jwe, resolveKey, { maxBytes });
  return checkedAnswer(plaintext, header, expected);
}

/**
 * openResponse for an answer sealed with ECDH-ES to the ephemeral X25519 key of the request (an
 * ed25519 pair): only the caller that made the request holds `ephemeralKey`, so only it opens the
 * answer; the same binding to nonce and status is checked.
 *
 * Confidentiality only: the request's `epk` and nonce are public, so anyone who saw the request can
 * seal an answer this opens. Unlike `dir` (only the pair holds the key), the sealing proves nothing
 * about the sender: verify the answer's response signature (PROTOCOL.md §9, verifyAnswer) too, and
 * use nothing of the answer before it verifies. SignedHttpService always does.
 */
export function openEcdhEsResponse(jwe: string | Uint8Array, ephemeralKey: KeyObject, expected: ExpectedAnswer, maxBytes?: number): Buffer {
  const { plaintext, header } = decryptEcdhEs(jwe, () => ephemeralKey, { maxBytes });
  return checkedAnswer(plaintext, header, expected);
}

function checkedAnswer(plaintext: Buffer, header: JweProtectedHeader, expected: ExpectedAnswer): Buffer {
  if (header.nonce !== expected.nonce) {
    throw new ServiceAuthError('decryption_failed', 'The encrypted answer was not made for this request');
  }
  if (header.status !== expected.status) {
    throw new ServiceAuthError('decryption_failed', 'The encrypted answer was not made for the status it arrived with');
  }
  return plaintext;
}
