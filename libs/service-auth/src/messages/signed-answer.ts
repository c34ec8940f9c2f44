import { createContentDigest, verifyContentDigest } from '../protocol/content-digest.js';
import { SIGNATURE_ALGORITHM } from '../protocol/covered-components.js';
import { httpMessage } from '../protocol/http-message.js';
import { buildSignatureBase } from '../protocol/signature-base.js';
import type { ParsedSignature } from '../protocol/parsed-signature.js';
import { parseSignatureFields, serializeSignatureParams } from '../protocol/signature-fields.js';
import { parseDecryptedJson } from '../crypto/decrypted-json.js';
import { isJweMediaType, JWE_MEDIA_TYPE } from '../crypto/jwe-media-type.js';
import { openPayload, sealPayload } from './message-encryption.js';
import { MessageAnswerRefusedError } from './message-answer-refused.error.js';
import { ANSWER_FIELD, envelopeFields, envelopeMessage, hasAnswerShape, type SignedAnswerEnvelope } from './message-envelope.js';
import { signBase, verifyBase } from '../crypto/signature-algorithm.js';
import { isWellFormedText } from './well-formed-text.js';

/** The key an answer is signed with: the pair's, the one the request was verified with. */
export interface AnswerKey {
  readonly id: string;
  readonly hmacKey: Uint8Array;
  /** The pair's encryption key: seals an answer (signAnswer's `seal`) and opens a sealed one. */
  readonly encryptionKey?: Uint8Array;
}

/** What binds an answer to its request: the request's nonce, and the caller it goes back to. */
export interface AnswerBinding {
  /** The request's nonce, signed again as the answer's `nonce`. */
  readonly nonce: string;
  /** The caller's service id, signed as the answer's `tag` (its audience). */
  readonly callerId: string;
}

const ANSWER_LABEL = 'answer';
const PLAIN_COMPONENTS = ['content-digest'];
const SEALED_COMPONENTS = ['content-type', 'content-digest'];
/** The method and target an answer's fields are read under; only `content-digest` and the parameters are signed. */
const ANSWER_METHOD = 'ANSWER';

/**
 * Signs one answer to a verified `send()`: the value's JSON text, its Content-Digest and a signature
 * over `("content-digest")` (`()` for no value) whose `nonce` is the request's and whose `tag` is the
 * caller's id. An answer captured for one request is worthless for any other.
 *
 * With `seal`, the payload is the JWE of the value's JSON (`null` for no value, as HTTP seals "no
 * data") under the pair's encryption key, with the request's nonce in its protected header, and the
 * signature covers `("content-type" "content-digest")`, `content-type` being `application/jose`: a
 * sealed answer says so under the signature, so it cannot be passed off as a plaintext one nor the reverse.
 */
export function signAnswer(
  value: unknown,
  key: AnswerKey,
  binding: AnswerBinding,
  created = Math.floor(Date.now() / 1000),
  { seal = false }: { seal?: boolean } = {},
): SignedAnswerEnvelope {
  const json = value === undefined ? '' : (JSON.stringify(value) ?? '');
  const fields: Record<string, string> = {};
  const components: string[] = [];
  let payload = json;
  if (seal) {
    const { encryptionKey } = key;
    if (!encryptionKey) throw new TypeError("A sealed answer needs the key's encryptionKey");
    payload = sealPayload(json === '' ? 'null' : json, { id: key.id, encryptionKey }, binding.nonce);
    fields['content-type'] = JWE_MEDIA_TYPE;
    components.push('content-type');
  }
  if (payload !== '') {
    fields['content-digest'] = createContentDigest(Buffer.from(payload, 'utf8'));
    components.push('content-digest');
  }
  const params = serializeSignatureParams(components, {
    created,
    nonce: binding.nonce,
    keyid: key.id,
    alg: SIGNATURE_ALGORITHM,
    tag: binding.callerId,
  });
  const base = buildSignatureBase(httpMessage({ method: ANSWER_METHOD, target: '/', headers: fields }), components, params);
  fields['signature-input'] = `${ANSWER_LABEL}=${params}`;
  fields['signature'] = `${ANSWER_LABEL}=:${signBase({ algorithm: 'hmac-sha256', key: key.hmacKey }, base).toString('base64')}:`;
  return { [ANSWER_FIELD]: fields, payload };
}

/**
 * The value of a signed answer, or a MessageAnswerRefusedError when it is not bound to the request:
 * `answer_unsigned` (no signature), `answer_invalid` (a signature over something else, for another
 * request, caller or key, a payload that is not well-formed text, or a sealed payload that does not open under the pair's key for this
 * request's nonce), `answer_not_sealed` (`sealed` asked for a sealed answer and it is not). `keyOf`
 * finds the pair's key by id (an answer may come signed with a key being rotated in). A sealed
 * answer is opened whether or not it was asked for.
 */
export function openSignedAnswer(
  answer: unknown,
  binding: AnswerBinding & { readonly upstream: string; readonly sealed?: boolean },
  keyOf: (keyId: string) => AnswerKey | undefined,
): unknown {
  const { upstream } = binding;
  if (!hasAnswerShape(answer) || typeof answer.payload !== 'string') {
    throw new MessageAnswerRefusedError(upstream, 'answer_unsigned');
  }
  const fields = envelopeFields(answer.serviceAuthAnswer);
  const input = fields.get('signature-input');
  const value = fields.get('signature');
  if (!input || !value) throw new MessageAnswerRefusedError(upstream, 'answer_unsigned');
  let signature: ParsedSignature;
  try {
    [signature] = parseSignatureFields(input, value);
  } catch {
    throw new MessageAnswerRefusedError(upstream, 'answer_invalid');
  }
  const { params, components } = signature;
  const payload = answer.payload;
  // A lone surrogate has the UTF-8 bytes (and so the digest) of U+FFFD: not the text that was signed.
  if (!isWellFormedText(payload)) throw new MessageAnswerRefusedError(upstream, 'answer_invalid');
  const sealed = isJweMediaType(fields.get('content-type'));
  if (binding.sealed && !sealed) throw new MessageAnswerRefusedError(upstream, 'answer_not_sealed');
  const expected = sealed ? SEALED_COMPONENTS : payload === '' ? [] : PLAIN_COMPONENTS;
  if (
    components.length !== expected.length ||
    components.some((c, i) => c !== expected[i]) ||
    params.nonce !== binding.nonce ||
    params.tag !== binding.callerId ||
    params.alg !== SIGNATURE_ALGORITHM ||
    params.keyid === undefined
  ) {
    throw new MessageAnswerRefusedError(upstream, 'answer_invalid');
  }
  const key = keyOf(params.keyid);
  const base = key && buildSignatureBase(envelopeMessage(ANSWER_METHOD, '/', fields), components, signature.signatureParams);
  if (!key || !base || !verifyBase({ algorithm: 'hmac-sha256', key: key.hmacKey }, base, signature.signature)) {
    throw new MessageAnswerRefusedError(upstream, 'answer_invalid');
  }
  if (payload === '') return undefined;
  try {
    verifyContentDigest(fields.get('content-digest'), Buffer.from(payload, 'utf8'));
    if (!sealed) return parseDecryptedJson(payload);
    return openPayload(payload, (kid) => keyOf(kid)?.encryptionKey, { nonce: binding.nonce });
  } catch {
    throw new MessageAnswerRefusedError(upstream, 'answer_invalid');
  }
}
