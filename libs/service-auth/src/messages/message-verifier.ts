import { ServiceAuthError } from '../errors/service-auth.error.js';
import { encryptionKeyOf } from '../keys/key-ring.js';
import { parseDecryptedJson } from '../crypto/decrypted-json.js';
import { acceptsJwe, isJweMediaType } from '../crypto/jwe-media-type.js';
import type { RequestVerifier, TrustPolicy, VerifiedRequest } from '../protocol/request-verifier.js';
import { envelopeFields, envelopeMessage, hasEnvelopeShape, type MessageKind } from './message-envelope.js';
import { openPayload, type MessageEncryptionPolicy } from './message-encryption.js';
import { messageTarget } from './message-pattern.js';
import { isWellFormedText } from './well-formed-text.js';

export interface IncomingSignedMessage {
  readonly kind: MessageKind;
  /** The pattern the transport routed the message by (its route string): what the signature must cover. */
  readonly route: string;
  /** The packet's data as received: a signed envelope, or anything else (refused as unsigned). */
  readonly data: unknown;
}

export interface VerifyMessageOptions {
  isTrusted?: TrustPolicy;
  /**
   * The handler's encryption policy, as HTTP's: `required` refuses a plaintext payload
   * (`encryption_required`) and seals every answer; `optional` (the default) opens an encrypted one;
   * `off` refuses an encrypted one (`media_type_unsupported`) and never seals.
   */
  encryption?: MessageEncryptionPolicy;
  /**
   * Another of the caller's keys by id, for a payload encrypted under a key other than the one that
   * signed it (a rotation); without it, only the signing key opens payloads.
   */
  callerEncryptionKey?: (callerId: string, keyId: string) => Uint8Array | undefined;
  /** Largest encrypted payload opened, in bytes (as `maxBodyBytes` for HTTP bodies). */
  maxPayloadBytes?: number;
}

export interface VerifiedMessage extends VerifiedRequest {
  /** The message's data, parsed (and opened, when encrypted) from the signed payload; undefined when it had none. */
  readonly data: unknown;
  /** Whether the answer must be sealed: an encrypted payload, a signed `accept: application/jose`, or the `required` policy. */
  readonly sealAnswer: boolean;
}

/**
 * A message whose signature verified, before any handler's own policy is applied: one message can
 * reach several handlers (two @EventPattern handlers on one pattern), and its nonce is claimed once,
 * so the signature is verified once and each handler then takes it under its trust list and
 * encryption policy (acceptMessage).
 */
export interface SignedMessage {
  /** The request as verified, for any configured caller: the trust list is a handler's. */
  readonly verified: VerifiedRequest;
  /** The signed payload text, still sealed when it is encrypted. */
  readonly payload: string;
  /** Whether the payload is a JWE (`content-type: application/jose`, signed). */
  readonly encrypted: boolean;
  /** Whether the caller asked for a sealed answer (`accept: application/jose`, signed). */
  readonly acceptsSealed: boolean;
}

/**
 * Verifies a message with the HTTP request verifier, as the request it is signed as (message-signer.ts):
 * the same checks in the same order, the same reasons, the same nonce store. The routed pattern,
 * not one the envelope names, is the `@path` verified, so a message moved to another pattern fails
 * its signature; so does a message of the other kind (`@method`: an event handler verifies `EMIT`,
 * a message handler `SEND`). A message without an envelope has no API key: `api_key_missing`. Then
 * the handler's policy is applied (acceptMessage).
 */
export async function verifyMessage(
  verifier: RequestVerifier,
  message: IncomingSignedMessage,
  options: VerifyMessageOptions = {},
): Promise<VerifiedMessage> {
  return acceptMessage(await verifyMessageSignature(verifier, message), options);
}

/**
 * The signature checks of verifyMessage, for any configured caller (the trust list is applied by
 * acceptMessage), and the nonce claimed. A payload that is not well-formed UTF-16 (a lone surrogate)
 * is `body_malformed`: its UTF-8 bytes, and so its digest, are those of another text.
 */
export async function verifyMessageSignature(verifier: RequestVerifier, message: IncomingSignedMessage): Promise<SignedMessage> {
  const envelope = hasEnvelopeShape(message.data) ? message.data : undefined;
  const fields = envelopeFields(envelope?.serviceAuth);
  if (envelope !== undefined && typeof envelope.payload !== 'string') {
    throw new ServiceAuthError('body_malformed', 'A signed message carries its data as JSON text in "payload"');
  }
  const payload = (envelope?.payload ?? '') as string;
  if (!isWellFormedText(payload)) {
    throw new ServiceAuthError('body_malformed', 'The message payload is not well-formed text (it has a lone surrogate)');
  }
  const request = envelopeMessage(message.kind, messageTarget(message.route), fields);
  const verified = await verifier.verify(request, Buffer.from(payload, 'utf8'));
  // Answers to messages are signed, and payloads sealed, with the pair's shared keys: an ed25519 pair has none.
  if (verified.key.algorithm !== 'hmac-sha256') {
    throw new ServiceAuthError('signature_algorithm_unsupported', 'Signed messages take hmac-sha256 credentials only');
  }
  return {
    verified,
    payload,
    encrypted: payload !== '' && isJweMediaType(fields.get('content-type')),
    acceptsSealed: acceptsJwe(fields.get('accept')),
  };
}

/**
 * A verified message as one handler takes it: its trust list (`caller_not_trusted`), then its
 * encryption policy; an encrypted payload is opened with the key that signed it, as an encrypted
 * HTTP body. Each handler gets its own copy of the data.
 */
export function acceptMessage(signed: SignedMessage, options: VerifyMessageOptions = {}): VerifiedMessage {
  const { verified, payload, encrypted } = signed;
  const { caller, key } = verified;
  if (options.isTrusted && !options.isTrusted(caller.id)) {
    throw new ServiceAuthError('caller_not_trusted', 'This caller is not allowed to use this handler', `caller=${caller.id}`);
  }
  const policy = options.encryption ?? 'optional';
  let data: unknown;
  if (encrypted) {
    if (policy === 'off') throw new ServiceAuthError('media_type_unsupported', 'This handler does not take encrypted messages');
    const resolve = (kid: string) => (kid === key.id ? encryptionKeyOf(key) : options.callerEncryptionKey?.(caller.id, kid));
    data = openPayload(payload, resolve, { maxBytes: options.maxPayloadBytes });
  } else {
    if (policy === 'required' && payload !== '') {
      throw new ServiceAuthError('encryption_required', 'This handler takes encrypted messages only (content-type: application/jose)');
    }
    data = parsePayload(payload);
  }
  const sealAnswer = policy !== 'off' && (encrypted || policy === 'required' || signed.acceptsSealed);
  return { ...verified, data, sealAnswer };
}

function parsePayload(payload: string): unknown {
  if (payload === '') return undefined;
  try {
    return parseDecryptedJson(payload);
  } catch {
    throw new ServiceAuthError('body_malformed', 'The message payload is not valid JSON');
  }
}
