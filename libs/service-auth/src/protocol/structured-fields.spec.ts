import { describe, expect, it } from '@jest/globals';
import * as reference from 'structured-headers';
import {
  isInnerList,
  parseDictionaryField,
  SfDecimal,
  SfToken,
  serializeInnerList,
  StructuredFieldError,
  type BareItem,
  type Dictionary,
  type InnerList,
  type Item,
} from './structured-fields.js';
import { mutateText } from '../../../../test/support/mutate-text.js';
import { prng } from '../../../../test/support/prng.js';

/** What mutated fields have inserted or replaced. */
const MUTATIONS = ['(', ')', '"', '\\', ':', ';', '=', ',', ' ', '\t', '-', '.', '?', '*', 'A', '0', '@', '%', '\u00e9', '\n'];

function generator(random: () => number) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
  const key = () => pick(['sig1', 'a', '*x', 'created', 'nonce', 'key-id', 'a.b_c', 'z9']);
  const bare = (): string =>
    pick([
      () => String(Math.floor(random() * 2e9) - 1e9),
      () => `${Math.floor(random() * 1000)}.${Math.floor(random() * 1000)}`,
      () => `"${pick(['@method', 'x-api-key', 'hmac-sha256', 'a\\"b', 'back\\\\slash', '', 'sp ace'])}"`,
      () => pick(['tok', 'A/b:c', '*t', 'text/plain']),
      () => `:${Buffer.from(String(random())).toString('base64')}:`,
      () => pick(['?0', '?1']),
    ])();
  const params = () => {
    let out = '';
    const n = Math.floor(random() * 3);
    for (let i = 0; i < n; i++) out += `;${key()}${random() < 0.8 ? `=${bare()}` : ''}`;
    return out;
  };
  const member = () => {
    if (random() < 0.5) {
      const n = Math.floor(random() * 4);
      const items = Array.from({ length: n }, () => bare() + params());
      return `(${items.join(' ')})${params()}`;
    }
    return bare() + params();
  };
  const dictionary = () => {
    const n = 1 + Math.floor(random() * 3);
    return Array.from({ length: n }, () => (random() < 0.9 ? `${key()}=${member()}` : key() + params())).join(pick([',', ', ', ' ,\t']));
  };
  const mutate = (s: string) => mutateText(s, random, MUTATIONS, 3);
  return { dictionary, mutate };
}

/** Our value model and the reference's, reduced to one comparable shape. */
function normaliseOurs(value: BareItem): unknown {
  if (value instanceof SfToken) return { token: value.value };
  if (value instanceof SfDecimal) return value.value;
  if (Buffer.isBuffer(value)) return { bytes: value.toString('base64') };
  return value;
}
function normaliseTheirs(value: unknown): unknown {
  if (value instanceof reference.Token) return { token: value.toString() };
  if (value instanceof ArrayBuffer) return { bytes: Buffer.from(value).toString('base64') };
  return value;
}
const oursParams = (p: Map<string, BareItem>) => [...p].map(([k, v]) => [k, normaliseOurs(v)]);
const theirsParams = (p: Map<string, unknown>) => [...p].map(([k, v]) => [k, normaliseTheirs(v)]);
function shapeOurs(d: Dictionary) {
  return [...d].map(([k, m]) => [
    k,
    isInnerList(m)
      ? { items: m.items.map((i: Item) => [normaliseOurs(i.value), oursParams(i.params)]), params: oursParams(m.params) }
      : [normaliseOurs(m.value), oursParams(m.params)],
  ]);
}
function shapeTheirs(d: reference.Dictionary) {
  return [...d].map(([k, m]) => [
    k,
    Array.isArray(m[0])
      ? { items: (m[0] as reference.Item[]).map((i) => [normaliseTheirs(i[0]), theirsParams(i[1])]), params: theirsParams(m[1]) }
      : [normaliseTheirs(m[0]), theirsParams(m[1])],
  ]);
}
/** RFC 9651 types (Dates, Display Strings) that RFC 8941, and so this parser, does not have. */
function usesRfc9651Types(d: reference.Dictionary): boolean {
  const special = (v: unknown) => v instanceof Date || v instanceof reference.DisplayString;
  const inParams = (p: Map<string, unknown>) => [...p.values()].some(special);
  return [...d.values()].some((m) =>
    Array.isArray(m[0])
      ? (m[0] as reference.Item[]).some((i) => special(i[0]) || inParams(i[1])) || inParams(m[1])
      : special(m[0]) || inParams(m[1]),
  );
}

function tryParse<T>(fn: () => T): { ok: true; value: T } | { ok: false } {
  try {
    return { ok: true, value: fn() };
  } catch {
    return { ok: false };
  }
}

describe('RFC 8941 dictionary parser', () => {
  it('parses the RFC 9421 fields it is used for', () => {
    const d = parseDictionaryField('sig1=("@method" "@path" "x-api-key");created=1618884473;keyid="test-key";alg="hmac-sha256"');
    const member = d.get('sig1') as InnerList;
    expect(member.items.map((i) => i.value)).toEqual(['@method', '@path', 'x-api-key']);
    expect([...member.params]).toEqual([
      ['created', 1618884473],
      ['keyid', 'test-key'],
      ['alg', 'hmac-sha256'],
    ]);
    const sig = parseDictionaryField('sig1=:cGF5bG9hZA==:').get('sig1') as Item;
    expect(Buffer.isBuffer(sig.value) && sig.value.toString()).toBe('payload');
  });

  it('round-trips an inner list canonically, whatever the whitespace received', () => {
    const d = parseDictionaryField('  sig1=(  "a"   "b\\"c" );n=1;s="x\\\\y";t=tok;b=?0;f ,x=1 ');
    expect(serializeInnerList(d.get('sig1') as InnerList)).toBe('("a" "b\\"c");n=1;s="x\\\\y";t=tok;b=?0;f');
  });

  it.each([
    ['empty key', '=1'],
    ['uppercase key', 'A=1'],
    ['trailing comma', 'a=1,'],
    ['unterminated string', 'a="abc'],
    ['unterminated inner list', 'a=("x" "y"'],
    ['bad escape', 'a="\\n"'],
    ['control character in string', 'a="\u0001"'],
    ['non-ASCII', 'a="\u00e9"'],
    ['integer of 16 digits', 'a=1234567890123456'],
    ['decimal with 4 fraction digits', 'a=1.2345'],
    ['decimal ending in a dot', 'a=1.'],
    ['bad boolean', 'a=?2'],
    ['bad byte sequence', 'a=:ab$c:'],
    ['unterminated byte sequence', 'a=:abc'],
    ['missing separator', 'a=1 b=2'],
    ['item starting with @ (an RFC 9651 Date)', 'a=@1659578233'],
  ])('refuses %s', (_, field) => {
    expect(() => parseDictionaryField(field)).toThrow(StructuredFieldError);
  });

  it('keys named like Object.prototype members are ordinary keys; "__proto__" is not a key at all', () => {
    const d = parseDictionaryField('constructor=1, tostring=("a");valueof=2, hasownproperty');
    expect([...d.keys()]).toEqual(['constructor', 'tostring', 'hasownproperty']);
    expect((d.get('constructor') as Item).value).toBe(1);
    expect([...(d.get('tostring') as InnerList).params]).toEqual([['valueof', 2]]);
    expect(d.get('valueof')).toBeUndefined();
    expect(() => parseDictionaryField('__proto__=1')).toThrow(StructuredFieldError);
    expect(() => parseDictionaryField('a=1;__proto__=2')).toThrow(StructuredFieldError);
  });

  it('agrees with the structured-headers package on 20 000 generated and mutated fields', () => {
    const random = prng(20261125);
    const { dictionary, mutate } = generator(random);
    let compared = 0;
    let bothRefused = 0;
    for (let i = 0; i < 20_000; i++) {
      const field = i % 2 === 0 ? dictionary() : mutate(dictionary());
      const ours = tryParse(() => parseDictionaryField(field));
      const theirs = tryParse(() => reference.parseDictionary(field));
      if (theirs.ok && usesRfc9651Types(theirs.value)) {
        expect(ours.ok).toBe(false);
        continue;
      }
      if (ours.ok !== theirs.ok) throw new Error(`disagreement on ${JSON.stringify(field)}: ours ${ours.ok}, reference ${theirs.ok}`);
      if (!ours.ok || !theirs.ok) {
        bothRefused++;
        continue;
      }
      expect([field, shapeOurs(ours.value)]).toEqual([field, shapeTheirs(theirs.value)]);
      for (const [k, m] of ours.value) {
        const ref = theirs.value.get(k)!;
        // The reference cannot tell 1.0 (a Decimal) from 1 (an Integer), so it serialises decimals differently.
        const values = isInnerList(m) ? [...m.items.flatMap((i) => [i.value, ...i.params.values()]), ...m.params.values()] : [];
        const hasDecimal = values.some((v) => v instanceof SfDecimal);
        if (isInnerList(m) && !hasDecimal) expect(serializeInnerList(m)).toBe(reference.serializeInnerList(ref as reference.InnerList));
      }
      compared++;
    }
    // Both paths were exercised substantially.
    expect(compared).toBeGreaterThan(8000);
    expect(bothRefused).toBeGreaterThan(3000);
  });
});
