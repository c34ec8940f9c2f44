import { describe, expect, it } from '@jest/globals';
import { serializeCanonicalSignatureParams } from './canonical-signature-params.js';
import type { SignatureParameters } from './parsed-signature.js';
import { serializeSignatureParams, serializeSignatureParamsInFull } from './signature-fields.js';
import { prng } from '../../../../test/support/prng.js';

/** Whatever the general serializer does with `run` (its text or its error), as a comparable value. */
function outcome(run: () => string): { text: string } | { error: true } {
  try {
    return { text: run() };
  } catch {
    return { error: true };
  }
}

describe('serializeCanonicalSignatureParams (the fast path of serializeSignatureParams)', () => {
  it('writes what signers sign exactly as structured-headers does', () => {
    const components = ['@method', '@path', '@query', 'x-api-key', 'content-type', 'content-digest'];
    const params: SignatureParameters = {
      created: 1700000000,
      nonce: 'AbC-_9xyz0123456789abc',
      keyid: 'k1',
      alg: 'hmac-sha256',
      tag: 'svc',
    };
    const text = serializeCanonicalSignatureParams(components, params);
    expect(text).toBe(
      '("@method" "@path" "@query" "x-api-key" "content-type" "content-digest");created=1700000000;nonce="AbC-_9xyz0123456789abc";keyid="k1";alg="hmac-sha256";tag="svc"',
    );
    expect(text).toBe(serializeSignatureParamsInFull(components, params));
  });

  it('leaves escapes, non-ASCII and non-canonical integers to the general serializer', () => {
    expect(serializeCanonicalSignatureParams(['a"b'], {})).toBeUndefined();
    expect(serializeCanonicalSignatureParams(['x'], { keyid: 'back\\slash' })).toBeUndefined();
    expect(serializeCanonicalSignatureParams(['x'], { tag: 'caf\u00e9' })).toBeUndefined();
    expect(serializeCanonicalSignatureParams(['x'], { created: -1 })).toBeUndefined();
    expect(serializeCanonicalSignatureParams(['x'], { created: 1.5 })).toBeUndefined();
    expect(serializeCanonicalSignatureParams(['x'], { expires: 1e15 })).toBeUndefined();
    // The general serializer escapes what it can and refuses the rest, as before.
    expect(serializeSignatureParams(['a"b'], {})).toBe('("a\\"b")');
    expect(() => serializeSignatureParams(['x'], { created: 1e15 })).toThrow();
  });

  it('agrees with the general serializer on generated inputs (text, or both refuse)', () => {
    const random = prng(9421);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
    const strings = ['@method', 'x-api-key', '', 'sp ace', 'q"uote', 'b\\s', 'caf\u00e9', 'tab\t', '~!#', 'k1', 'hmac-sha256'];
    const integers = [0, 1, 1700000000, 999_999_999_999_999, 1e15, -1, 1.5, Number.NaN];
    for (let n = 0; n < 2000; n++) {
      const components = Array.from({ length: Math.floor(random() * 5) }, () => pick(strings));
      const params: SignatureParameters = {};
      if (random() < 0.8) params.created = pick(integers);
      if (random() < 0.3) params.expires = pick(integers);
      for (const key of ['nonce', 'keyid', 'alg', 'tag'] as const) if (random() < 0.8) params[key] = pick(strings);
      const fast = serializeCanonicalSignatureParams(components, params);
      const general = outcome(() => serializeSignatureParamsInFull(components, params));
      if (fast !== undefined) expect({ text: fast }).toEqual(general);
      expect(outcome(() => serializeSignatureParams(components, params))).toEqual(general);
    }
  });
});
