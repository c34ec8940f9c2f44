import { ServiceAuthError } from '../errors/service-auth.error.js';
import { parseDecryptedJson } from '../crypto/decrypted-json.js';
import type { RequestVerifier, TrustPolicy, VerifiedRequest } from '../protocol/request-verifier.js';
import { envelopeFields, envelopeMessage, hasEnvelopeShape, type MessageKind } from './message-envelope.js';
import { messageTarget } from './message-pattern.js';

export interface IncomingSignedMessage {
  readonly kind: MessageKind;
  /** The pattern the transport routed the message by (its route string): what the signature must cover. */
  readonly route: string;
  /** The packet's data as received: a signed envelope, or anything else (refused as unsigned). */
  readonly data: unknown;
}

export interface VerifiedMessage extends VerifiedRequest {
  /** The message's data, parsed from the signed payload; undefined when it had none. */
  readonly data: unknown;
}

/**
 * Verifies a message with the HTTP request verifier, as the request it is signed as (message-signer.ts):
 * the same checks in the same order, the same reasons, the same nonce store. The routed pattern,
 * not one the envelope names, is the `@path` verified, so a message moved to another pattern fails
 * its signature. A message without an envelope has no API key: `api_key_missing`.
 */
export async function verifyMessage(
  verifier: RequestVerifier,
  message: IncomingSignedMessage,
  options: { isTrusted?: TrustPolicy } = {},
): Promise<VerifiedMessage> {
  const envelope = hasEnvelopeShape(message.data) ? message.data : undefined;
  const fields = envelopeFields(envelope?.serviceAuth);
  if (envelope !== undefined && typeof envelope.payload !== 'string') {
    throw new ServiceAuthError('body_malformed', 'A signed message carries its data as JSON text in "payload"');
  }
  const payload = envelope?.payload ?? '';
  const request = envelopeMessage(message.kind, messageTarget(message.route), fields);
  const verified = await verifier.verify(request, Buffer.from(payload as string, 'utf8'), options);
  return { ...verified, data: parsePayload(payload as string) };
}

function parsePayload(payload: string): unknown {
  if (payload === '') return undefined;
  try {
    return parseDecryptedJson(payload);
  } catch {
    throw new ServiceAuthError('body_malformed', 'The message payload is not valid JSON');
  }
}
