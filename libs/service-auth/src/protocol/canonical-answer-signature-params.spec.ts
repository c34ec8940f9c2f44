import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { serializeCanonicalAnswerSignatureParams, type AnswerSignatureParameters } from './canonical-answer-signature-params.js';
import { serializeAnswerSignatureParamsInFull, signAnswer, verifyAnswer } from './response-signature.js';
import { prng } from '../../../../test/support/prng.js';

/** Whatever the general serializer does with `run` (its text or its error), as a comparable value. */
function outcome(run: () => string): { text: string } | { error: true } {
  try {
    return { text: run() };
  } catch {
    return { error: true };
  }
}

describe("serializeCanonicalAnswerSignatureParams (the fast path of an answer's @signature-params)", () => {
  it('writes what the callee signs exactly as structured-headers does, with and without a Content-Type', () => {
    const params: AnswerSignatureParameters = { created: 1700000000, keyid: 'order-service-1', alg: 'hmac-sha256' };
    expect(serializeCanonicalAnswerSignatureParams(true, 'sig1', params)).toBe(
      '("@status" "content-type" "content-digest" "@method";req "@path";req "@query";req "signature";req;key="sig1");created=1700000000;keyid="order-service-1";alg="hmac-sha256"',
    );
    for (const hasContentType of [true, false]) {
      expect(serializeCanonicalAnswerSignatureParams(hasContentType, 'sig1', params)).toBe(
        serializeAnswerSignatureParamsInFull(hasContentType, 'sig1', params),
      );
    }
  });

  it('leaves escapes, non-ASCII and non-canonical integers to the general serializer', () => {
    const ok: AnswerSignatureParameters = { created: 1, keyid: 'k1', alg: 'ed25519' };
    expect(serializeCanonicalAnswerSignatureParams(true, 'a"b', ok)).toBeUndefined();
    expect(serializeCanonicalAnswerSignatureParams(true, 'sig1', { ...ok, keyid: 'back\\slash' })).toBeUndefined();
    expect(serializeCanonicalAnswerSignatureParams(true, 'sig1', { ...ok, keyid: 'caf\u00e9' })).toBeUndefined();
    expect(serializeCanonicalAnswerSignatureParams(true, 'sig1', { ...ok, created: -1 })).toBeUndefined();
    expect(serializeCanonicalAnswerSignatureParams(true, 'sig1', { ...ok, created: 1.5 })).toBeUndefined();
    expect(serializeCanonicalAnswerSignatureParams(true, 'sig1', { ...ok, created: 1e15 })).toBeUndefined();
  });

  it('agrees with the general serializer on generated inputs (text, or both refuse)', () => {
    const random = prng(9421);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
    const strings = ['sig1', 'sig-b_2.*', '', 'sp ace', 'q"uote', 'b\\s', 'caf\u00e9', 'tab\t', '~!#', 'k1', 'hmac-sha256', 'ed25519'];
    const integers = [0, 1, 1700000000, 999_999_999_999_999, 1e15, -1, 1.5, Number.NaN];
    for (let n = 0; n < 2000; n++) {
      const hasContentType = random() < 0.5;
      const label = pick(strings);
      const params: AnswerSignatureParameters = { created: pick(integers), keyid: pick(strings), alg: pick(strings) };
      const fast = serializeCanonicalAnswerSignatureParams(hasContentType, label, params);
      const general = outcome(() => serializeAnswerSignatureParamsInFull(hasContentType, label, params));
      if (fast !== undefined) expect({ text: fast }).toEqual(general);
    }
  });

  // verifyAnswer re-serialises the received Signature-Input with structured-headers: an answer signed
  // through the fast path verifies only if both wrote the same @signature-params.
  it.each([
    ['with a Content-Type', 'application/json; charset=utf-8'],
    ['without one', undefined],
  ])('signs answers (%s) that the general parser and serializer verify', (_, contentType) => {
    const key = randomBytes(32);
    const request = { method: 'POST', target: '/api/orders?x=1', signatureLabel: 'sig1', signature: randomBytes(32) };
    const answer = { status: 201, contentType, body: Buffer.from(contentType ? '{"ok":true}' : '') };
    const headers = signAnswer(answer, request, { id: 'order-service-1', algorithm: 'hmac-sha256', key }, 1700000000);
    const received = { contentDigest: headers['content-digest'], signatureInput: headers['signature-input'], signature: headers.signature };
    const resolve = () => ({ algorithm: 'hmac-sha256' as const, key });
    expect(verifyAnswer(answer, received, request, resolve)).toEqual({ keyId: 'order-service-1', created: 1700000000 });
    expect(() => verifyAnswer({ ...answer, status: 200 }, received, request, resolve)).toThrow('does not match');
  });

  it('signs through the general serializer what the fast path leaves to it, and the answer still verifies', () => {
    const key = randomBytes(32);
    const request = { method: 'POST', target: '/api/orders?x=1', signatureLabel: 'sig1', signature: randomBytes(32) };
    const answer = { status: 200, contentType: 'application/json; charset=utf-8', body: Buffer.from('{"ok":true}') };
    // structured-headers refuses a non-ASCII string: signing refuses rather than sending a field it cannot write.
    expect(() => signAnswer(answer, request, { id: 'caf\u00e9', algorithm: 'hmac-sha256', key })).toThrow();
    const headers = signAnswer(answer, request, { id: 'k "1"', algorithm: 'hmac-sha256', key });
    expect(headers['signature-input']).toContain(';keyid="k \\"1\\""');
    const checked = verifyAnswer(
      answer,
      { contentDigest: headers['content-digest'], signatureInput: headers['signature-input'], signature: headers.signature },
      request,
      (id) => (id === 'k "1"' ? { algorithm: 'hmac-sha256', key } : undefined),
    );
    expect(checked.keyId).toBe('k "1"');
  });

  it('refuses to sign an answer whose Content-Type or request target carries a line break', () => {
    const key = { id: 'k1', algorithm: 'hmac-sha256' as const, key: randomBytes(32) };
    const request = { method: 'GET', target: '/a', signatureLabel: 'sig1', signature: randomBytes(32) };
    const body = Buffer.from('x');
    expect(() => signAnswer({ status: 200, contentType: 'text/plain\nx-forged: 1', body }, request, key)).toThrow('line break');
    expect(() => signAnswer({ status: 200, body }, { ...request, target: '/a\r\n' }, key)).toThrow('line break');
  });
});
