import type { SignatureParameters } from './parsed-signature.js';

/**
 * The fast path of serializeSignatureParams (signature-fields.ts), for what signers put in a
 * signature: component names and string parameters of printable ASCII without `"` or `\`, and
 * integers of at most 15 digits. For those, RFC 8941's serialisation of the inner list is plain
 * concatenation, `("@method" "@path");created=1700000000;nonce="…";keyid="k1";alg="hmac-sha256";tag="svc"`,
 * and neither Maps nor Item tuples need building for structured-headers' serializer.
 *
 * It returns undefined for ANYTHING else (an escape, a character outside printable ASCII, an integer
 * that is negative, fractional or too long), and the general serializer decides, which may throw.
 * canonical-signature-params.spec.ts checks both give the same text on generated inputs.
 *
 * What it earns: serialising the parameters of a signed message costs about 0.4 µs of CPU here and
 * about 3.7 µs through structured-headers (node 20, 50 000 calls each), once per signed request and
 * once per signed answer.
 */
export function serializeCanonicalSignatureParams(components: readonly string[], params: SignatureParameters): string | undefined {
  let out = '(';
  for (let i = 0; i < components.length; i++) {
    const name = components[i];
    if (!isPlainString(name)) return undefined;
    out += i === 0 ? `"${name}"` : ` "${name}"`;
  }
  out += ')';
  // The order of signature-fields.ts's serializeSignatureParams: created, expires, nonce, keyid, alg, tag.
  const { created, expires, nonce, keyid, alg, tag } = params;
  if (created !== undefined) {
    if (!isCanonicalInteger(created)) return undefined;
    out += `;created=${created}`;
  }
  if (expires !== undefined) {
    if (!isCanonicalInteger(expires)) return undefined;
    out += `;expires=${expires}`;
  }
  for (const [key, value] of [
    ['nonce', nonce],
    ['keyid', keyid],
    ['alg', alg],
    ['tag', tag],
  ] as const) {
    if (value === undefined) continue;
    if (!isPlainString(value)) return undefined;
    out += `;${key}="${value}"`;
  }
  return out;
}

/** A string RFC 8941 serialises as itself between quotes: printable ASCII, no `"`, no `\`. */
export function isPlainString(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

/** An integer RFC 8941 serialises as its decimal digits (§4.1.4: at most 15 of them). */
export function isCanonicalInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 999_999_999_999_999;
}
