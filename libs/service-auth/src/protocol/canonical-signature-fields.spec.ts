import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { parseCanonicalSignature } from './canonical-signature-fields.js';
import { signRequest } from './request-signer.js';
import type { ParsedSignature } from './parsed-signature.js';
import { parseSignatureFields, parseSignatureFieldsInFull } from './signature-fields.js';
import { mutateText } from '../../../../test/support/mutate-text.js';
import { prng } from '../../../../test/support/prng.js';

/** What mutated fields have inserted or replaced. */
const MUTATIONS = ['(', ')', '"', '\\', ':', ';', '=', ',', ' ', '\t', '-', '.', '0', '=', '@', '\u00e9', '\n', 'a'];

/** Signature-Input / Signature pairs near what signers send, and mutations of them. */
function generator(random: () => number) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
  const randomBytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));
  const label = () => pick(['sig1', 'sig-b.2', '*x', 'a', 'Sig1', '1sig']);
  const component = () =>
    pick([
      '"@method"',
      '"@path"',
      '"@query"',
      '"x-api-key"',
      '"content-digest"',
      '"content-type"',
      '"@authority"',
      '"a\\"b"',
      '""',
      '"sp ace"',
      'tok',
      '"@path";req',
    ]);
  const integer = () => pick(['1700000000', '0', '00', '017', '-5', '1.5', '9999999999999999', '123456789012345', '1700000000.0']);
  const string = () =>
    pick([
      '"hmac-sha256"',
      '"k1"',
      '"inventory-service"',
      `"${randomBytes(16).toString('base64url')}"`,
      '"es\\\\c"',
      '"x"',
      'tok',
      '?1',
      ':AAAA:',
    ]);
  const param = () => {
    const key = pick(['created', 'expires', 'nonce', 'alg', 'keyid', 'tag', 'other', 'created', 'nonce']);
    const value = key === 'created' || key === 'expires' ? (random() < 0.85 ? integer() : string()) : random() < 0.9 ? string() : integer();
    return random() < 0.95 ? `;${key}=${value}` : `;${key}`;
  };
  const base64 = () =>
    pick([
      () => randomBytes(32).toString('base64'),
      () => randomBytes(32).toString('base64').replace(/=+$/, ''),
      () => randomBytes(Math.floor(random() * 40)).toString('base64'),
      () => pick(['', 'A', 'AB', 'AB=', 'AB==', 'ABC=', 'A===', 'AB=C', 'A-_B', 'AAAA====']),
    ])();
  const pair = (): [string, string] => {
    const l = label();
    const n = Math.floor(random() * 7);
    const items = Array.from({ length: n }, component).join(random() < 0.9 ? ' ' : '  ');
    const params = Array.from({ length: Math.floor(random() * 7) }, param).join('');
    const input = `${l}=(${items})${params}` + (random() < 0.05 ? `, ${label()}=("@method");created=1` : '');
    const sigLabel = random() < 0.95 ? l : label();
    const signature = `${sigLabel}=:${base64()}:` + (random() < 0.05 ? `, other=:${base64()}:` : random() < 0.03 ? ';p=1' : '');
    return [input, signature];
  };
  const mutate = (s: string) => mutateText(s, random, MUTATIONS, 2);
  return { pair, mutate, random };
}

function inFull(input: string, signature: string): { ok: ParsedSignature[] } | { error: unknown } {
  try {
    return { ok: parseSignatureFieldsInFull(input, signature) };
  } catch (error) {
    return { error };
  }
}

describe('parseCanonicalSignature (the fast path of parseSignatureFields)', () => {
  it('takes what signRequest produces, with the same result as the full parser', () => {
    const hmacKey = randomBytes(32);
    for (let i = 0; i < 200; i++) {
      const headers: Record<string, string> = { 'content-type': 'application/json', 'idempotency-key': `k-${i}` };
      const body = Buffer.from(JSON.stringify({ i }));
      Object.assign(
        headers,
        signRequest(
          { method: 'POST', url: new URL(`http://svc/api/x/${i}?q=${i}`), headers, body },
          { id: `key-${i % 3}`, apiKey: `sk_${'a'.repeat(40)}`, hmacKey, audience: 'svc' },
        ),
      );
      const fast = parseCanonicalSignature(headers['signature-input'], headers.signature);
      expect(fast).toBeDefined();
      expect([fast]).toEqual(parseSignatureFieldsInFull(headers['signature-input'], headers.signature));
    }
  });

  it('never accepts what the full parser refuses, and agrees with it on what both accept (generated and mutated fields)', () => {
    const g = generator(prng(9421));
    let taken = 0;
    let declinedButValid = 0;
    for (let i = 0; i < 30_000; i++) {
      let [input, signature] = g.pair();
      if (g.random() < 0.5) {
        if (g.random() < 0.7) input = g.mutate(input);
        else signature = g.mutate(signature);
      }
      const fast = parseCanonicalSignature(input, signature);
      const full = inFull(input, signature);
      if (fast !== undefined) {
        taken++;
        if (!('ok' in full))
          throw new Error(`fast path accepted what the full parser refuses: ${JSON.stringify([input, signature])}: ${String(full.error)}`);
        expect({ input, signature, parsed: [fast] }).toEqual({ input, signature, parsed: full.ok });
      } else if ('ok' in full) {
        declinedButValid++;
      }
    }
    // Both kinds of case were exercised in numbers.
    expect(taken).toBeGreaterThan(300);
    expect(declinedButValid).toBeGreaterThan(200);
  });

  it('declines, for the full parser to decide, anything not in canonical form', () => {
    const sig = `sig1=:${randomBytes(32).toString('base64')}:`;
    const canonical = 'sig1=("@method" "@path");created=1700000000;keyid="k1";alg="hmac-sha256";nonce="n"';
    expect(parseCanonicalSignature(canonical, sig)).toBeDefined();
    for (const variant of [
      ' ' + canonical,
      canonical + ' ',
      canonical.replace('("@method" "@path")', '( "@method" "@path")'),
      canonical.replace('("@method" "@path")', '("@method"  "@path")'),
      canonical.replace('("@method" "@path")', '("@method" "@path" )'),
      canonical.replace('created=1700000000', 'created=01700000000'),
      canonical.replace(';keyid', '; keyid'),
      canonical + ';created=1',
      canonical + ', sig2=("@method");created=1',
      canonical.replace('"k1"', '"k\\\\1"'),
      canonical.replace('"@path"', '"@method"'),
    ]) {
      expect({ variant, fast: parseCanonicalSignature(variant, sig) }).toEqual({ variant, fast: undefined });
    }
    // The full parser still reads the whitespace and leading-zero variants, and refuses the rest.
    expect(parseSignatureFields(' ' + canonical, sig)[0].signatureParams).toBe(canonical.slice('sig1='.length));
    expect(parseSignatureFields(canonical.replace('created=1700000000', 'created=01700000000'), sig)[0].signatureParams).toBe(
      canonical.slice('sig1='.length),
    );
    expect(() => parseSignatureFields(canonical + ';created=1', sig)).not.toThrow();
    expect(() => parseSignatureFields(canonical.replace('"@path"', '"@method"'), sig)).toThrow(/listed twice/);
  });

  it('declines a Signature that is not exactly label=:base64: and leaves its refusal to the full parser', () => {
    const input = 'sig1=("@method");created=1700000000;nonce="n"';
    const b64 = randomBytes(32).toString('base64');
    for (const signature of [
      `sig1=:${b64}:;p=1`,
      ` sig1=:${b64}:`,
      `sig1=:${b64}: `,
      `sig2=:${b64}:`,
      `sig1=:${b64}:, sig2=:${b64}:`,
      `sig1=:A===:`,
      `sig1=:AB=C:`,
      `sig1=:A:`,
      `sig1=${b64}`,
    ]) {
      expect({ signature, fast: parseCanonicalSignature(input, signature) }).toEqual({ signature, fast: undefined });
    }
    expect(parseCanonicalSignature(input, `sig1=:${b64.replace(/=+$/, '')}:`)?.signature).toEqual(Buffer.from(b64, 'base64'));
    expect(parseCanonicalSignature(input, `sig1=::`)?.signature).toEqual(Buffer.alloc(0));
    expect(parseCanonicalSignature(input, `sig1=:${'A'.repeat(9000)}:`)).toBeUndefined();
  });
});
