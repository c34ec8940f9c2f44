import { randomBytes } from 'node:crypto';
import { signRequest, type SigningCredential, type SignRequestOptions } from '../protocol/request-signer.js';
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
}

/**
 * Signs one message for the credential's audience, exactly as an HTTP request to
 * `<kind> /<pattern, percent-encoded>` with the payload's JSON as its body: the same covered
 * components, parameters, audience (`tag`) and nonce. Sign every message afresh: each carries a
 * new nonce.
 */
export function signMessage(
  input: SignMessageInput,
  credential: SigningCredential,
  options: SignRequestOptions = {},
): { envelope: SignedMessageEnvelope; nonce: string } {
  const payload = input.data === undefined ? '' : JSON.stringify(input.data);
  const headers: Record<string, string> = payload === '' ? {} : { 'content-type': 'application/json' };
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
