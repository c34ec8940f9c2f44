import { isCanonicalInteger, isPlainString } from './canonical-signature-params.js';

/** The parameters an answer's signature carries, in the order they are serialised. */
export interface AnswerSignatureParameters {
  readonly created: number;
  readonly keyid: string;
  readonly alg: string;
}

/**
 * The fast path of the answer's `@signature-params` (response-signature.ts), for what the callee
 * signs with: a request signature label, a keyid and an alg of printable ASCII without `"` or `\`,
 * and a `created` of at most 15 digits. For those, RFC 8941's serialisation of the inner list is
 * plain concatenation,
 *
 *   ("@status" "content-type" "content-digest" "@method";req "@path";req "@query";req "signature";req;key="sig1");created=1700000000;keyid="k1";alg="hmac-sha256"
 *
 * and no Maps or Item tuples need building for structured-headers' serializer.
 *
 * It returns undefined for ANYTHING else, and the general serializer decides (which may throw).
 * canonical-answer-signature-params.spec.ts checks both give the same text on generated inputs.
 *
 * What it earns: once per signed answer, about 0.3 µs here against about 4 µs through
 * structured-headers (node 20, 200 000 calls each), plus the young-generation garbage of the Maps.
 */
export function serializeCanonicalAnswerSignatureParams(
  hasContentType: boolean,
  requestLabel: string,
  params: AnswerSignatureParameters,
): string | undefined {
  const { created, keyid, alg } = params;
  if (!isPlainString(requestLabel) || !isPlainString(keyid) || !isPlainString(alg) || !isCanonicalInteger(created)) return undefined;
  return (
    (hasContentType ? '("@status" "content-type" "content-digest"' : '("@status" "content-digest"') +
    ` "@method";req "@path";req "@query";req "signature";req;key="${requestLabel}")` +
    `;created=${created};keyid="${keyid}";alg="${alg}"`
  );
}
