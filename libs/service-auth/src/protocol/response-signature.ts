import { isInnerList, parseDictionary, serializeInnerList, type BareItem, type Item } from 'structured-headers';
import { serializeCanonicalAnswerSignatureParams, type AnswerSignatureParameters } from './canonical-answer-signature-params.js';
import { createContentDigest, verifyContentDigest } from './content-digest.js';
import { splitTarget } from './http-message.js';
import { signBase, verifyBase, type SignatureAlgorithm, type SigningKey, type VerificationKey } from '../crypto/signature-algorithm.js';
import { MAX_SIGNATURE_FIELD_LENGTH } from './covered-components.js';
import { ServiceAuthError } from '../errors/service-auth.error.js';

/**
 * RFC 9421 response signatures (§2.4), bound to the request they answer. An answer's signature
 * covers its status, its Content-Type (when it has one), the Content-Digest of its exact bytes, and
 * from the request (`;req`) the method, path, query and the request's own signature, which covers
 * the request's nonce: an answer captured from one request is worthless as the answer to any other.
 *
 *   Signature-Input: sig1=("@status" "content-type" "content-digest" "@method";req "@path";req
 *                          "@query";req "signature";req;key="sig1");created=…;keyid="…";alg="…"
 */
export const ANSWER_SIGNATURE_LABEL = 'sig1';

/** The request an answer is for, as the callee verified it and as the caller sent it. */
export interface AnsweredRequest {
  readonly method: string;
  /** The request target as sent: path plus `?query`. */
  readonly target: string;
  /** The label of the request's signature, and its bytes. */
  readonly signatureLabel: string;
  readonly signature: Uint8Array;
}

/** What of an answer its signature covers. */
export interface AnswerContent {
  readonly status: number;
  /** The Content-Type exactly as it is sent; undefined when the answer has none. */
  readonly contentType?: string;
  /** The exact bytes of the body (empty for none). */
  readonly body: Uint8Array;
}

/** The key an answer is signed with, and the id the caller finds its verification key by. */
export type AnswerSigningKey = SigningKey & { readonly id: string };

/** Why an answer was refused by the caller. */
export type AnswerRefusal = 'answer_unsigned' | 'answer_signature_invalid';

export class AnswerSignatureError extends Error {
  override readonly name = 'AnswerSignatureError';
  constructor(
    readonly reason: AnswerRefusal,
    message: string,
  ) {
    super(message);
  }
}

/** The covered component identifiers, serialised, for an answer with or without a Content-Type. */
function coveredItems(hasContentType: boolean, requestLabel: string): Item[] {
  const plain = (name: string): Item => [name, new Map<string, BareItem>()];
  const ofRequest = (name: string, key?: string): Item => [
    name,
    new Map<string, BareItem>(
      key === undefined
        ? [['req', true]]
        : [
            ['req', true],
            ['key', key],
          ],
    ),
  ];
  return [
    plain('@status'),
    ...(hasContentType ? [plain('content-type')] : []),
    plain('content-digest'),
    ofRequest('@method'),
    ofRequest('@path'),
    ofRequest('@query'),
    ofRequest('signature', requestLabel),
  ];
}

/** RFC 9421 §2.5 base of an answer, given its serialised signature parameters. */
function answerSignatureBase(answer: AnswerContent, contentDigest: string, request: AnsweredRequest, signatureParams: string): string {
  const { path, query } = splitTarget(request.target);
  const contentType = answer.contentType?.trim();
  const method = request.method.toUpperCase();
  // A line break inside a component would let its value pass for further lines of the base.
  if (
    LINE_BREAK.test(contentDigest) ||
    LINE_BREAK.test(method) ||
    LINE_BREAK.test(path) ||
    LINE_BREAK.test(query) ||
    LINE_BREAK.test(request.signatureLabel) ||
    LINE_BREAK.test(signatureParams) ||
    (contentType !== undefined && LINE_BREAK.test(contentType))
  ) {
    throw new TypeError('An answer component contains a line break');
  }
  // Concatenated rather than joined from an array of lines: this runs once per signed answer.
  return (
    `"@status": ${answer.status}\n` +
    (contentType === undefined ? '' : `"content-type": ${contentType}\n`) +
    `"content-digest": ${contentDigest}\n` +
    `"@method";req: ${method}\n` +
    `"@path";req: ${path}\n` +
    `"@query";req: ${query}\n` +
    `"signature";req;key=${JSON.stringify(request.signatureLabel)}: :${Buffer.from(request.signature).toString('base64')}:\n` +
    `"@signature-params": ${signatureParams}`
  );
}

const LINE_BREAK = /[\r\n]/;

/** The answer's `@signature-params`: the canonical text when it applies, else structured-headers'. */
function serializeAnswerSignatureParams(hasContentType: boolean, requestLabel: string, params: AnswerSignatureParameters): string {
  return (
    serializeCanonicalAnswerSignatureParams(hasContentType, requestLabel, params) ??
    serializeAnswerSignatureParamsInFull(hasContentType, requestLabel, params)
  );
}

/** serializeAnswerSignatureParams without its fast path (exported for the differential test). */
export function serializeAnswerSignatureParamsInFull(
  hasContentType: boolean,
  requestLabel: string,
  params: AnswerSignatureParameters,
): string {
  return serializeInnerList([
    coveredItems(hasContentType, requestLabel),
    new Map<string, BareItem>([
      ['created', params.created],
      ['keyid', params.keyid],
      ['alg', params.alg],
    ]),
  ]);
}

/**
 * Signs an answer: returns the headers to send with it, Content-Digest, Signature-Input and
 * Signature. `created` is seconds since the epoch (now by default).
 */
export function signAnswer(
  answer: AnswerContent,
  request: AnsweredRequest,
  key: AnswerSigningKey,
  created = Math.floor(Date.now() / 1000),
): Record<'content-digest' | 'signature-input' | 'signature', string> {
  const contentDigest = createContentDigest(answer.body);
  const signatureParams = serializeAnswerSignatureParams(answer.contentType !== undefined, request.signatureLabel, {
    created,
    keyid: key.id,
    alg: key.algorithm,
  });
  const signature = signBase(key, answerSignatureBase(answer, contentDigest, request, signatureParams));
  return {
    'content-digest': contentDigest,
    'signature-input': `${ANSWER_SIGNATURE_LABEL}=${signatureParams}`,
    signature: `${ANSWER_SIGNATURE_LABEL}=:${signature.toString('base64')}:`,
  };
}

/** The answer's signature headers, as received. */
export interface AnswerSignatureHeaders {
  readonly contentDigest?: string;
  readonly signatureInput?: string;
  readonly signature?: string;
}

/**
 * Verifies an answer's signature against the request the caller sent: refused (AnswerSignatureError)
 * when unsigned, when it covers less than the profile, when it was made for another request, when
 * its key is unknown, or when the status, Content-Type or bytes differ from what was signed.
 * `resolveKey` finds the verification key by keyid and algorithm (undefined: unknown key).
 */
export function verifyAnswer(
  answer: AnswerContent,
  headers: AnswerSignatureHeaders,
  request: AnsweredRequest,
  resolveKey: (keyId: string, algorithm: SignatureAlgorithm) => VerificationKey | undefined,
): { keyId: string; created: number } {
  const invalid = (message: string) => new AnswerSignatureError('answer_signature_invalid', message);
  if (!headers.signatureInput || !headers.signature) {
    throw new AnswerSignatureError('answer_unsigned', 'The answer carries no signature (Signature-Input and Signature)');
  }
  if (headers.signatureInput.length > MAX_SIGNATURE_FIELD_LENGTH || headers.signature.length > MAX_SIGNATURE_FIELD_LENGTH) {
    throw invalid('The answer signature fields are too long');
  }
  let inputs, signatures;
  try {
    inputs = parseDictionary(headers.signatureInput);
    signatures = parseDictionary(headers.signature);
  } catch {
    throw invalid('The answer signature fields are not structured dictionaries (RFC 8941)');
  }
  if (inputs.size !== 1) throw invalid('The answer must carry exactly one signature');
  const [[label, member]] = inputs;
  const value = signatures.get(label);
  if (!isInnerList(member) || !value || isInnerList(value) || !(value[0] instanceof ArrayBuffer)) {
    throw invalid('The answer signature fields are malformed');
  }
  const signatureParams = serializeInnerList(member);
  const noParameters = new Map<string, BareItem>();
  const expected = serializeInnerList([coveredItems(answer.contentType !== undefined, request.signatureLabel), noParameters]);
  // The covered list must be the profile's exactly, bound to this request's signature label.
  if (serializeInnerList([member[0], noParameters]) !== expected) {
    throw invalid('The answer signature does not cover the answer and its request as required');
  }
  const params: Map<string, BareItem> = member[1];
  const created: unknown = params.get('created');
  const keyId: unknown = params.get('keyid');
  const alg: unknown = params.get('alg');
  if (typeof created !== 'number' || typeof keyId !== 'string' || typeof alg !== 'string' || params.size !== 3) {
    throw invalid('The answer signature must carry exactly created, keyid and alg');
  }
  if (alg !== 'hmac-sha256' && alg !== 'ed25519') throw invalid(`The answer is signed with an unsupported algorithm`);
  const key = resolveKey(keyId, alg);
  if (!key) throw invalid(`The answer is signed with key ${keyId}, which is not this upstream's answer key`);
  if (!headers.contentDigest) throw invalid('The answer has no Content-Digest');
  const base = answerSignatureBase(answer, headers.contentDigest, request, signatureParams);
  if (!verifyBase(key, base, Buffer.from(value[0]))) {
    throw invalid('The answer signature does not match the answer (status, type or digest changed, or another request)');
  }
  try {
    verifyContentDigest(headers.contentDigest, answer.body);
  } catch (err) {
    throw invalid(`The answer body does not match its signed digest (${err instanceof ServiceAuthError ? err.reason : 'digest'})`);
  }
  return { keyId, created };
}
