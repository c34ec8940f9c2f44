import { randomBytes } from 'node:crypto';
import { signRequest, type SigningCredential, type SignRequestOptions } from '../protocol/request-signer.js';
import { JWE_MEDIA_TYPE } from '../crypto/jwe-media-type.js';
import { sealPayload } from './message-encryption.js';
import type { MessageKind, SignedMessageEnvelope } from './message-envelope.js';
import { messageTarget, patternRoute } from './message-pattern.js';

/**
 * The origin a message is signed under. Not signed itself (`@authority` is not covered): the request
 * signer needs an absolute URL, and only the path and query it derives are part of the base.
 */
const MESSAGE_ORIGIN = 'http://message.invalid';

export interface SignMessageInput {
  /** `SEND` for a request that expects an answer (ClientProxy.send), `EMIT` for an event (emit). */
  kind: MessageKind;
  /** The pattern as passed to send() or emit(); signed as Nest routes it (patternRoute). */
  pattern: unknown;
  /** The message's data; `undefined` sends no payload. */
  data: unknown;
  /**
   * Encrypt the payload (a JWE under the credential's encryption key, then signed over) and ask for a
   * sealed answer (`accept: application/jose`, signed). Needs `encryptionKey` on the credential.
   */
  encrypt?: boolean;
}

/** A credential that can also encrypt: the pair's encryption key under the same key id. */
export type MessageSigningCredential = SigningCredential & { readonly encryptionKey?: Uint8Array };

/**
 * Signs one message for the credential's audience, exactly as an HTTP request to
 * `<kind> /<pattern, percent-encoded>` with the payload's JSON as its body: the same covered
 * components, parameters, audience (`tag`) and nonce. Sign every message afresh: each carries a
 * new nonce. With `encrypt`, the body is the payload's JWE (`content-type: application/jose`) and
 * the signed `accept: application/jose` asks for a sealed answer.
 */
export function signMessage(
  input: SignMessageInput,
  credential: MessageSigningCredential,
  options: SignRequestOptions = {},
): { envelope: SignedMessageEnvelope; nonce: string } {
  const json = input.data === undefined ? '' : JSON.stringify(input.data);
  let payload = json;
  const headers: Record<string, string> = {};
  if (input.encrypt) {
    const { encryptionKey } = credential;
    if (!encryptionKey) throw new TypeError("An encrypted message needs the credential's encryptionKey");
    // Encrypt, then sign: the digest and the signature cover the ciphertext, as for an HTTP body.
    if (json !== '') payload = sealPayload(json, { id: credential.id, encryptionKey });
    headers['accept'] = JWE_MEDIA_TYPE;
  }
  if (payload !== '') headers['content-type'] = input.encrypt ? JWE_MEDIA_TYPE : 'application/json';
  const nonce = options.nonce ?? randomNonce();
  const signed = signRequest(
    {
      method: input.kind,
      url: MESSAGE_ORIGIN + messageTarget(patternRoute(input.pattern)),
      headers,
      body: Buffer.from(payload, 'utf8'),
    },
    credential,
    { ...options, nonce },
  );
  return { envelope: { serviceAuth: { ...headers, ...signed }, payload }, nonce };
}

function randomNonce(): string {
  return randomBytes(16).toString('base64url');
}
