import { createContentDigest, verifyContentDigest } from '../protocol/content-digest.js';
import { SIGNATURE_ALGORITHM } from '../protocol/covered-components.js';
import { httpMessage } from '../protocol/http-message.js';
import { buildSignatureBase } from '../protocol/signature-base.js';
import type { ParsedSignature } from '../protocol/parsed-signature.js';
import { parseSignatureFields, serializeSignatureParams } from '../protocol/signature-fields.js';
import { parseDecryptedJson } from '../crypto/decrypted-json.js';
import { MessageAnswerRefusedError } from './message-answer-refused.error.js';
import { ANSWER_FIELD, envelopeFields, envelopeMessage, hasAnswerShape, type SignedAnswerEnvelope } from './message-envelope.js';
import { signAnswerBase, verifyAnswerBase } from './answer-signature.js';

/** The key an answer is signed with: the pair's, the one the request was verified with. */
export interface AnswerKey {
  readonly id: string;
  readonly hmacKey: Uint8Array;
}

/** What binds an answer to its request: the request's nonce, and the caller it goes back to. */
export interface AnswerBinding {
  /** The request's nonce, signed again as the answer's `nonce`. */
  readonly nonce: string;
  /** The caller's service id, signed as the answer's `tag` (its audience). */
  readonly callerId: string;
}

const ANSWER_LABEL = 'answer';
/** The method and target an answer's fields are read under; only `content-digest` and the parameters are signed. */
const ANSWER_METHOD = 'ANSWER';

/**
 * Signs one answer to a verified `send()`: the value's JSON text, its Content-Digest and a signature
 * over `("content-digest")` (`()` for no value) whose `nonce` is the request's and whose `tag` is the
 * caller's id. An answer captured for one request is worthless for any other.
 */
export function signAnswer(
  value: unknown,
  key: AnswerKey,
  binding: AnswerBinding,
  created = Math.floor(Date.now() / 1000),
): SignedAnswerEnvelope {
  const payload = value === undefined ? '' : JSON.stringify(value);
  const fields: Record<string, string> = {};
  const components: string[] = [];
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
  fields['signature'] = `${ANSWER_LABEL}=:${signAnswerBase(key.hmacKey, base).toString('base64')}:`;
  return { [ANSWER_FIELD]: fields, payload };
}

/**
 * The value of a signed answer, or a MessageAnswerRefusedError when it is not bound to the request:
 * `answer_unsigned` (no signature), `answer_invalid` (a signature over something else, for another
 * request, caller or key). `keyOf` finds the pair's key by id (an answer may come signed with a key
 * being rotated in).
 */
export function openSignedAnswer(
  answer: unknown,
  binding: AnswerBinding & { readonly upstream: string },
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
  const expected = payload === '' ? [] : ['content-digest'];
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
  if (!key || !base || !verifyAnswerBase(key.hmacKey, base, signature.signature)) {
    throw new MessageAnswerRefusedError(upstream, 'answer_invalid');
  }
  if (payload === '') return undefined;
  try {
    verifyContentDigest(fields.get('content-digest'), Buffer.from(payload, 'utf8'));
    return parseDecryptedJson(payload);
  } catch {
    throw new MessageAnswerRefusedError(upstream, 'answer_invalid');
  }
}
