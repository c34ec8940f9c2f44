import { randomBytes } from 'node:crypto';
import { encryptCompact } from '../crypto/jwe-compact.js';
import { isJweMediaType, JWE_MEDIA_TYPE } from '../crypto/jwe-media-type.js';
import { openEcdhEsResponse, openResponse } from '../crypto/open-response.js';
import { encryptEcdhEs } from '../crypto/ecdh-es-jwe.js';
import type { KeyObject } from 'node:crypto';
import { parseDecryptedJson } from '../crypto/decrypted-json.js';
import { signRequest, type Ed25519SigningCredential, type HmacSigningCredential } from '../protocol/request-signer.js';
import { ServiceAuthError } from '../errors/service-auth.error.js';
import { signedCallComponents } from './signed-call-headers.js';
import type { AnsweredRequest } from '../protocol/response-signature.js';
import { SIGNATURE_LABEL } from '../protocol/covered-components.js';
import { OutgoingRequestRefusedError } from './outgoing-request-refused.error.js';

/** The credential an outgoing call is signed, and possibly encrypted, with. */
export type OutgoingCredential = (HmacSigningCredential & { readonly encryptionKey: Uint8Array }) | Ed25519SigningCredential;

/** One attempt, ready to send: exactly these headers and these bytes. */
export interface PreparedRequest {
  headers: Record<string, string>;
  body: Buffer | undefined;
  /** The signature's nonce: an encrypted answer must echo it. */
  nonce: string;
  /** What a signed answer must be bound to: this request's method, target and signature. */
  answered: AnsweredRequest;
  /** Whether a sealed answer was asked for: the answer must then be a JWE bound to this request. */
  answerSealed: boolean;
  /** ed25519 pairs: the ephemeral X25519 key the body was encrypted with; the answer is sealed to its public half. */
  ephemeralKey?: KeyObject;
}

/** The upstream's X25519 key an ed25519 pair encrypts bodies to (its current encryption key). */
export interface RecipientKey {
  readonly id: string;
  readonly publicKey: KeyObject;
}

/** Serialises the body once, so that the bytes signed are the bytes sent. */
function bodyBytes(data: unknown, headers: Record<string, string>): Buffer | undefined {
  if (data === undefined || data === null) return undefined;
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (typeof data === 'string') {
    headers['content-type'] ??= 'text/plain; charset=utf-8';
    return Buffer.from(data, 'utf8');
  }
  headers['content-type'] ??= 'application/json';
  return Buffer.from(JSON.stringify(data), 'utf8');
}

/**
 * Prepares one attempt of an outgoing call: body serialised once; when `encrypt`, encrypted as a JWE
 * and an encrypted answer asked for; then signed over exactly the bytes that will be sent, with a
 * fresh `created` and nonce. Encrypt, then sign: the digest and signature cover the ciphertext, so
 * tampering is refused before anything is decrypted.
 * The signature covers every header of the call but the hop-by-hop and transport ones
 * (signedCallComponents), `accept` included: when it asks for a sealed answer, stripping it in transit
 * cannot downgrade the answer to plaintext. With `coverAuthority`, it also covers `@authority`.
 * `headers` are lowercase names; `url` is absolute and sent verbatim.
 */
export function prepareRequest(
  input: { method: string; url: string; headers: Record<string, string>; data: unknown },
  credential: OutgoingCredential,
  encrypt: boolean,
  options: { coverAuthority?: boolean; recipient?: RecipientKey } = {},
): PreparedRequest {
  const headers = { ...input.headers };
  let body = bodyBytes(input.data, headers);
  let answerSealed = false;
  let ephemeralKey: KeyObject | undefined;
  if (encrypt && credential.algorithm === 'ed25519') {
    const recipient = options.recipient;
    if (!recipient) {
      throw new OutgoingRequestRefusedError(
        'request_config_unsafe',
        `SignedHttpService: key "${credential.id}" is an ed25519 key, and the upstream has no X25519 encryption key to encrypt to ` +
          '(encryptionKeys; in the environment <PREFIX>_UPSTREAM_<ID>_ENCRYPTION_KEYS); nothing was sent',
        'encrypt',
      );
    }
    // Without a body there is no ephemeral key to seal the answer to: it comes back signed, in plaintext.
    if (body) {
      const cty = headers['content-type'] ?? 'application/json';
      const sealed = encryptEcdhEs(body, recipient.publicKey, { kid: recipient.id, cty });
      body = Buffer.from(sealed.jwe, 'latin1');
      ephemeralKey = sealed.ephemeralPrivateKey;
      headers['content-type'] = JWE_MEDIA_TYPE;
      headers['accept'] = JWE_MEDIA_TYPE;
      answerSealed = true;
    }
  } else if (encrypt && credential.algorithm === 'hmac-sha256') {
    if (body) {
      const cty = headers['content-type'] ?? 'application/json';
      body = Buffer.from(encryptCompact(body, credential.encryptionKey, { kid: credential.id, cty }), 'latin1');
      headers['content-type'] = JWE_MEDIA_TYPE;
    }
    headers['accept'] = JWE_MEDIA_TYPE;
    answerSealed = true;
  }
  const components = signedCallComponents(headers, options.coverAuthority ?? false);
  const nonce = randomBytes(16).toString('base64url');
  const signed = signRequest({ method: input.method, url: input.url, headers, body }, credential, { nonce, components });
  Object.assign(headers, signed);
  const url = new URL(input.url);
  const answered: AnsweredRequest = {
    method: input.method.toUpperCase(),
    target: url.pathname + url.search,
    signatureLabel: SIGNATURE_LABEL,
    signature: Buffer.from(signed['signature'].slice(SIGNATURE_LABEL.length + 2, -1), 'base64'),
  };
  return { headers, body, nonce, answered, answerSealed, ephemeralKey };
}

/**
 * The data an answer to an encrypted call carries. Every successful (2xx) answer must be a JWE bound
 * to the request's nonce and to the status it arrived with, an empty one included (the callee seals
 * "no data" as JSON `null`): otherwise a network attacker could replace any answer, a refusal
 * included, with `200` and no body, or move a sealed answer to another status. The one exception is
 * an answer to HEAD, which has no body on the wire to seal. Other statuses (a refusal, which is never
 * encrypted, accepted by a custom `validateStatus`) are returned as they came, unless sealed.
 */
export function openAnswer(
  answer: { method: string; status: number; contentType: string | undefined; data: unknown },
  resolveKey: ((kid: string) => Uint8Array | undefined) | { readonly ephemeralKey: KeyObject },
  nonce: string,
): unknown {
  if (answer.method === 'HEAD') return answer.data;
  if (!isJweMediaType(answer.contentType)) {
    if (answer.status < 200 || answer.status >= 300) return answer.data;
    throw new ServiceAuthError('encryption_required', 'The upstream answered in plaintext where an encrypted answer was expected');
  }
  const expected = { nonce, status: answer.status };
  const plaintext =
    typeof resolveKey === 'function'
      ? openResponse(String(answer.data), resolveKey, expected)
      : openEcdhEsResponse(String(answer.data), resolveKey.ephemeralKey, expected);
  try {
    return parseDecryptedJson(plaintext.toString('utf8'));
  } catch {
    throw new ServiceAuthError('body_malformed', 'The decrypted answer is not JSON');
  }
}
