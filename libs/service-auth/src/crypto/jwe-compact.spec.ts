import { describe, it, expect } from '@jest/globals';
import { createCipheriv, randomBytes } from 'node:crypto';
import * as jose from 'jose';
import { decryptCompact, encryptCompact, type JweProtectedHeader } from './jwe-compact.js';
import { ServiceAuthError } from '../errors/service-auth.error.js';
import { REASON_STATUS, type ReasonCode } from '../errors/reason-codes.js';

const KID = 'k-2025-01';
const KEY = randomBytes(32);
const OTHER_KEY = randomBytes(32);
const keys = new Map<string, Uint8Array>([[KID, KEY]]);
const resolve = (kid: string) => keys.get(kid);
const BODY = Buffer.from(JSON.stringify({ orderId: 'o-1', items: [{ sku: 'A', qty: 2 }], note: 'héllo ✓' }), 'utf8');

function expectReason(fn: () => unknown, reason: ReasonCode): ServiceAuthError {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  if (thrown === undefined) throw new Error(`expected a ServiceAuthError with reason ${reason}, nothing was thrown`);
  expect(thrown).toBeInstanceOf(ServiceAuthError);
  const err = thrown as ServiceAuthError;
  expect(err.reason).toBe(reason);
  expect(err.status).toBe(REASON_STATUS[reason]);
  return err;
}

const b64u = (data: Uint8Array | string) => Buffer.from(data).toString('base64url');

/**
 * Builds a compact JWE by hand with full control over every part, correctly encrypted (AAD = the
 * encoded header) so that only the property under test is wrong.
 */
function forge(
  header: object | string,
  opts: { key?: Uint8Array; iv?: Buffer; tagLength?: number; encryptedKey?: string; plaintext?: Uint8Array } = {},
): string {
  const encodedHeader = b64u(typeof header === 'string' ? header : JSON.stringify(header));
  const iv = opts.iv ?? randomBytes(12);
  const tagLength = opts.tagLength ?? 16;
  let ivForCipher = iv;
  if (iv.length === 0) ivForCipher = randomBytes(12); // GCM needs some IV; the emitted part stays empty
  const cipher = createCipheriv('aes-256-gcm', opts.key ?? KEY, ivForCipher, {
    authTagLength: tagLength >= 12 && tagLength <= 16 ? tagLength : 16,
  });
  cipher.setAAD(Buffer.from(encodedHeader, 'ascii'));
  const ct = Buffer.concat([cipher.update(opts.plaintext ?? BODY), cipher.final()]);
  let tag = cipher.getAuthTag();
  if (tagLength > 16) tag = Buffer.concat([tag, randomBytes(tagLength - 16)]);
  return [encodedHeader, opts.encryptedKey ?? '', b64u(iv), b64u(ct), b64u(tag)].join('.');
}

const goodHeader = { alg: 'dir', enc: 'A256GCM', kid: KID };

/** Replaces part `index` of a compact JWE. */
function withPart(token: string, index: number, value: string): string {
  const parts = token.split('.');
  parts[index] = value;
  return parts.join('.');
}

/** Flips one bit of the decoded part `index`, returning the re-encoded token. */
function flipBit(token: string, index: number, byte = 0, bit = 0): string {
  const parts = token.split('.');
  const bytes = Buffer.from(parts[index], 'base64url');
  bytes[byte] ^= 1 << bit;
  parts[index] = bytes.toString('base64url');
  return parts.join('.');
}

describe('encryptCompact / decryptCompact', () => {
  describe('round trip', () => {
    it('decrypts what it encrypts', () => {
      const token = encryptCompact(BODY, KEY, { kid: KID });
      const { plaintext, header } = decryptCompact(token, resolve);
      expect(plaintext.equals(BODY)).toBe(true);
      expect(header.kid).toBe(KID);
    });

    it('produces the compact shape h..iv.ct.tag with an empty encrypted key', () => {
      const token = encryptCompact(BODY, KEY, { kid: KID });
      const parts = token.split('.');
      expect(parts).toHaveLength(5);
      expect(parts[1]).toBe('');
      expect(token).toMatch(/^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]{22}$/);
      expect(Buffer.from(parts[2], 'base64url')).toHaveLength(12);
      expect(Buffer.from(parts[4], 'base64url')).toHaveLength(16);
      expect(Buffer.from(parts[3], 'base64url')).toHaveLength(BODY.length);
    });

    it('handles an empty plaintext and a large one', () => {
      const empty = decryptCompact(encryptCompact(new Uint8Array(0), KEY, { kid: KID }), resolve);
      expect(empty.plaintext).toHaveLength(0);
      const big = randomBytes(256 * 1024);
      expect(decryptCompact(encryptCompact(big, KEY, { kid: KID }), resolve).plaintext.equals(big)).toBe(true);
    });

    it('accepts the token as bytes (Buffer and plain Uint8Array view)', () => {
      const token = encryptCompact(BODY, KEY, { kid: KID });
      expect(decryptCompact(Buffer.from(token, 'ascii'), resolve).plaintext.equals(BODY)).toBe(true);
      const padded = new Uint8Array(token.length + 10);
      padded.set(Buffer.from(token, 'ascii'), 5);
      expect(decryptCompact(padded.subarray(5, 5 + token.length), resolve).plaintext.equals(BODY)).toBe(true);
    });

    it('uses a fresh IV on every call, so two encryptions of the same body differ', () => {
      const a = encryptCompact(BODY, KEY, { kid: KID });
      const b = encryptCompact(BODY, KEY, { kid: KID });
      expect(a).not.toBe(b);
      expect(a.split('.')[2]).not.toBe(b.split('.')[2]);
      expect(a.split('.')[0]).toBe(b.split('.')[0]);
      // No IV ever repeats.
      const ivs = new Set(Array.from({ length: 3000 }, () => encryptCompact(BODY, KEY, { kid: KID }).split('.')[2]));
      expect(ivs.size).toBe(3000);
    });
  });

  describe('protected header', () => {
    it('carries alg, enc, kid, the default cty and extra members, in that order', () => {
      const token = encryptCompact(BODY, KEY, { kid: KID, nonce: 'n-123', ts: 1700000000 });
      const raw = Buffer.from(token.split('.')[0], 'base64url').toString('utf8');
      expect(raw).toBe(`{"alg":"dir","enc":"A256GCM","kid":"${KID}","cty":"application/json","nonce":"n-123","ts":1700000000}`);
      const { header } = decryptCompact(token, resolve);
      const expected: JweProtectedHeader = {
        alg: 'dir',
        enc: 'A256GCM',
        kid: KID,
        cty: 'application/json',
        nonce: 'n-123',
        ts: 1700000000,
      };
      expect(header).toEqual(expected);
    });

    it('serialises kid, cty and extras exactly as JSON.stringify would, escapes included', () => {
      for (const kid of ['k"1', 'k\\1', 'k\n1', 'clé-☃', 'emoji-😀', 'lone-\ud800', '\u0000']) {
        const token = encryptCompact(BODY, KEY, { kid, cty: 'a/"b"', note: 'x\ty' });
        const raw = Buffer.from(token.split('.')[0], 'base64url').toString('utf8');
        expect(raw).toBe(JSON.stringify({ alg: 'dir', enc: 'A256GCM', kid, cty: 'a/"b"', note: 'x\ty' }));
        const { header } = decryptCompact(token, () => KEY);
        expect(header.kid).toBe(JSON.parse(JSON.stringify(kid)));
      }
    });

    it('returns a header of its own to every message, even when the header text repeats', () => {
      const first = decryptCompact(encryptCompact(BODY, KEY, { kid: KID }), resolve).header;
      const again = decryptCompact(encryptCompact(BODY, KEY, { kid: KID }), resolve).header;
      expect(again).toEqual(first);
      expect(again).not.toBe(first);
    });

    it('copes with a very deeply nested extra member', () => {
      const depth = 100_000;
      const json = `{"alg":"dir","enc":"A256GCM","kid":"${KID}","deep":${'['.repeat(depth)}${']'.repeat(depth)}}`;
      expect(decryptCompact(forge(json), resolve).plaintext.equals(BODY)).toBe(true);
    });

    it('checks every message, whatever was opened before with the same header', () => {
      // A forged message with a new header is refused and leaves no trace: the same header on a
      // message under the wrong key is refused again, then the genuine one opens.
      const header = { ...goodHeader, cty: 'application/memo-test' };
      expectReason(() => decryptCompact(forge(header, { key: OTHER_KEY }), resolve), 'decryption_failed');
      expectReason(() => decryptCompact(forge(header, { key: OTHER_KEY }), resolve), 'decryption_failed');
      expect(decryptCompact(forge(header), resolve).plaintext.equals(BODY)).toBe(true);
      // Once a genuine message with this header has opened, tampering, other keys and unknown kids are still refused.
      const token = forge(header);
      expect(decryptCompact(token, resolve).header.cty).toBe('application/memo-test');
      expectReason(() => decryptCompact(flipBit(token, 3), resolve), 'decryption_failed');
      expectReason(() => decryptCompact(forge(header, { key: OTHER_KEY }), resolve), 'decryption_failed');
      expectReason(() => decryptCompact(token, () => undefined), 'key_unknown');
      expectReason(() => decryptCompact(withPart(token, 2, ''), resolve), 'jwe_malformed');
    });

    it('keeps encrypting correctly through many distinct headers', () => {
      for (let i = 0; i < 600; i++) {
        const kid = `kid-${i % 300}`;
        const token = encryptCompact(BODY, KEY, { kid });
        const { plaintext, header } = decryptCompact(token, () => KEY);
        expect(header.kid).toBe(kid);
        expect(plaintext.equals(BODY)).toBe(true);
      }
    });

    it('keeps an explicit cty and drops undefined members', () => {
      const token = encryptCompact(BODY, KEY, { kid: KID, cty: 'text/plain', nonce: undefined });
      const { header } = decryptCompact(token, resolve);
      expect(header).toEqual({ alg: 'dir', enc: 'A256GCM', kid: KID, cty: 'text/plain' });
    });

    it('refuses to let the caller set alg, enc, zip or crit, and checks kid and key length', () => {
      for (const name of ['alg', 'enc', 'zip', 'crit']) {
        expect(() => encryptCompact(BODY, KEY, { kid: KID, [name]: 'x' })).toThrow(TypeError);
      }
      expect(() => encryptCompact(BODY, KEY, { kid: '' })).toThrow(TypeError);
      expect(() => encryptCompact(BODY, randomBytes(16), { kid: KID })).toThrow(RangeError);
      expect(() => encryptCompact(BODY, randomBytes(64), { kid: KID })).toThrow(RangeError);
    });

    it('binds the protected header as AAD: one changed character is refused', () => {
      const token = encryptCompact(BODY, KEY, { kid: KID, nonce: 'abc' });
      const json = Buffer.from(token.split('.')[0], 'base64url').toString('utf8');
      const altered = json.replace('"nonce":"abc"', '"nonce":"abd"');
      expect(altered).not.toBe(json);
      expectReason(() => decryptCompact(withPart(token, 0, b64u(altered)), resolve), 'decryption_failed');
    });

    it('authenticates the header bytes, not just its meaning (same JSON, other spacing)', () => {
      const token = encryptCompact(BODY, KEY, { kid: KID });
      const json = Buffer.from(token.split('.')[0], 'base64url').toString('utf8');
      const respaced = json.replace('"alg":"dir"', '"alg": "dir"');
      expectReason(() => decryptCompact(withPart(token, 0, b64u(respaced)), resolve), 'decryption_failed');
    });

    it('refuses a header swapped in from another valid message', () => {
      const a = encryptCompact(BODY, KEY, { kid: KID, nonce: 'a' });
      const b = encryptCompact(BODY, KEY, { kid: KID, nonce: 'b' });
      expectReason(() => decryptCompact(withPart(a, 0, b.split('.')[0]), resolve), 'decryption_failed');
    });
  });

  describe('integrity and keys', () => {
    const token = encryptCompact(BODY, KEY, { kid: KID });

    it('refuses a flipped ciphertext bit', () => {
      expectReason(() => decryptCompact(flipBit(token, 3, 0, 0), resolve), 'decryption_failed');
      expectReason(() => decryptCompact(flipBit(token, 3, BODY.length - 1, 7), resolve), 'decryption_failed');
    });

    it('refuses a flipped tag bit', () => {
      expectReason(() => decryptCompact(flipBit(token, 4, 0, 0), resolve), 'decryption_failed');
      expectReason(() => decryptCompact(flipBit(token, 4, 15, 7), resolve), 'decryption_failed');
    });

    it('refuses a flipped IV bit', () => {
      expectReason(() => decryptCompact(flipBit(token, 2, 5, 3), resolve), 'decryption_failed');
    });

    it('refuses a truncated or extended ciphertext', () => {
      const ct = Buffer.from(token.split('.')[3], 'base64url');
      expectReason(() => decryptCompact(withPart(token, 3, b64u(ct.subarray(0, ct.length - 1))), resolve), 'decryption_failed');
      expectReason(() => decryptCompact(withPart(token, 3, b64u(Buffer.concat([ct, Buffer.from([0])]))), resolve), 'decryption_failed');
    });

    it('refuses a message encrypted under another key with the same kid', () => {
      expectReason(() => decryptCompact(encryptCompact(BODY, OTHER_KEY, { kid: KID }), resolve), 'decryption_failed');
    });

    it('refuses an unknown kid, passing the kid to the resolver', () => {
      const seen: string[] = [];
      expectReason(
        () =>
          decryptCompact(encryptCompact(BODY, KEY, { kid: 'nope' }), (kid) => {
            seen.push(kid);
            return undefined;
          }),
        'key_unknown',
      );
      expect(seen).toEqual(['nope']);
    });

    it('treats a resolved key of the wrong size as unusable', () => {
      expectReason(() => decryptCompact(token, () => randomBytes(16)), 'key_unknown');
    });

    it('keeps messages short and free of key, plaintext and tag', () => {
      const tampered = flipBit(token, 3, 0, 0);
      const err = expectReason(() => decryptCompact(tampered, resolve), 'decryption_failed');
      const tag = token.split('.')[4];
      for (const text of [err.message, err.detail ?? '']) {
        expect(text).not.toContain(tag);
        expect(text).not.toContain(KEY.toString('hex'));
        expect(text).not.toContain(KEY.toString('base64url'));
        expect(text).not.toContain('orderId');
      }
      expect(err.message.length).toBeLessThan(80);
    });
  });

  describe('malformed input -> jwe_malformed', () => {
    const token = encryptCompact(BODY, KEY, { kid: KID });

    it('refuses 4 or 6 parts', () => {
      const parts = token.split('.');
      expectReason(() => decryptCompact(parts.slice(0, 4).join('.'), resolve), 'jwe_malformed');
      expectReason(() => decryptCompact(`${token}.`, resolve), 'jwe_malformed');
      expectReason(() => decryptCompact(`${token}.${parts[4]}`, resolve), 'jwe_malformed');
      expectReason(() => decryptCompact('.'.repeat(10_000), resolve), 'jwe_malformed');
    });

    it('refuses characters outside the base64url alphabet, and padding', () => {
      const ct = token.split('.')[3];
      for (const bad of ['+', '/', '=', ' ', '\n', 'é', '\u0000']) {
        expectReason(() => decryptCompact(withPart(token, 3, bad + ct.slice(1)), resolve), 'jwe_malformed');
      }
      // Every part, at its start, middle and end, with characters a lenient decoder would skip,
      // stop at, or read as digits ('\u0141' truncates to 'A', '\uff21' is a fullwidth 'A').
      const bads = ['+', '/', '=', ' ', '\t', '\r', '!', '*', '~', '"', '\u0000', '\u007f', 'é', '\u0141', '\uff21', '\ud83d'];
      for (const index of [0, 2, 3, 4]) {
        const part = token.split('.')[index];
        for (const pos of [0, part.length >> 1, part.length - 1]) {
          for (const bad of bads) {
            const mutated = withPart(token, index, part.slice(0, pos) + bad + part.slice(pos + 1));
            expectReason(() => decryptCompact(mutated, resolve), 'jwe_malformed');
          }
        }
      }
      expectReason(() => decryptCompact(withPart(token, 4, `${token.split('.')[4]}==`), resolve), 'jwe_malformed');
      const std = Buffer.from(token.split('.')[0], 'base64url').toString('base64'); // standard alphabet + padding
      expectReason(() => decryptCompact(withPart(token, 0, std.endsWith('=') ? std : `${std}=`), resolve), 'jwe_malformed');
    });

    it('refuses non-canonical base64url (impossible length, non-zero unused bits)', () => {
      expectReason(() => decryptCompact(withPart(token, 3, 'AAAAA'), resolve), 'jwe_malformed'); // 5 chars: 1 mod 4
      const tag = token.split('.')[4]; // 22 chars: the last one carries 4 unused bits
      const last = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.indexOf(tag[21]);
      const sibling = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[last | 1];
      const aliased = tag.slice(0, 21) + sibling;
      expect(Buffer.from(aliased, 'base64url').equals(Buffer.from(tag, 'base64url'))).toBe(true);
      expectReason(() => decryptCompact(withPart(token, 4, aliased), resolve), 'jwe_malformed');
    });

    it('accepts a part exactly when it is strict base64url (differential check against a reference)', () => {
      const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const reference = (s: string) => {
        if (!/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) return false;
        const unused = s.length % 4 === 2 ? 0x0f : s.length % 4 === 3 ? 0x03 : 0;
        return s.length === 0 || (ALPHABET.indexOf(s[s.length - 1]) & unused) === 0;
      };
      const pool = `${ALPHABET}${ALPHABET}+/= \t!*é\u0141\uff21`;
      let seed = 42;
      const next = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 8;
      const [h, , iv, , tag] = token.split('.');
      let accepted = 0;
      for (let i = 0; i < 3000; i++) {
        let ct = '';
        const len = next() % 12;
        for (let j = 0; j < len; j++) ct += pool[next() % pool.length];
        // A strict part reaches the AEAD (and fails there); anything else is malformed.
        const expected = reference(ct) ? 'decryption_failed' : 'jwe_malformed';
        if (expected === 'decryption_failed') accepted++;
        expectReason(() => decryptCompact(`${h}..${iv}.${ct}.${tag}`, resolve), expected);
      }
      expect(accepted).toBeGreaterThan(100);
    });

    it('refuses bytes input with non-ASCII bytes', () => {
      const bytes = Buffer.from(token, 'ascii');
      bytes[3] = 0xc3;
      expectReason(() => decryptCompact(bytes, resolve), 'jwe_malformed');
    });

    it('refuses a header that is not JSON, not UTF-8, or not an object', () => {
      expectReason(() => decryptCompact(forge('not json'), resolve), 'jwe_malformed');
      expectReason(() => decryptCompact(forge('{"alg":"dir",'), resolve), 'jwe_malformed');
      expectReason(() => decryptCompact(forge(JSON.stringify([goodHeader])), resolve), 'jwe_malformed');
      expectReason(() => decryptCompact(forge('[]'), resolve), 'jwe_malformed');
      expectReason(() => decryptCompact(forge('null'), resolve), 'jwe_malformed');
      expectReason(() => decryptCompact(forge('"dir"'), resolve), 'jwe_malformed');
      expectReason(() => decryptCompact(forge('42'), resolve), 'jwe_malformed');
      expectReason(() => decryptCompact(withPart(token, 0, ''), resolve), 'jwe_malformed');
      const invalidUtf8 = Buffer.concat([
        Buffer.from('{"alg":"dir","enc":"A256GCM","kid":"'),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('"}'),
      ]);
      expectReason(() => decryptCompact(withPart(token, 0, b64u(invalidUtf8)), resolve), 'jwe_malformed');
    });

    it('refuses a wrong IV length', () => {
      expectReason(() => decryptCompact(forge(goodHeader, { iv: randomBytes(8) }), resolve), 'jwe_malformed');
      expectReason(() => decryptCompact(forge(goodHeader, { iv: randomBytes(16) }), resolve), 'jwe_malformed');
      expectReason(() => decryptCompact(forge(goodHeader, { iv: Buffer.alloc(0) }), resolve), 'jwe_malformed');
    });

    it('refuses a wrong tag length (truncated tags included)', () => {
      expectReason(() => decryptCompact(forge(goodHeader, { tagLength: 12 }), resolve), 'jwe_malformed');
      expectReason(() => decryptCompact(forge(goodHeader, { tagLength: 15 }), resolve), 'jwe_malformed');
      expectReason(() => decryptCompact(forge(goodHeader, { tagLength: 32 }), resolve), 'jwe_malformed');
      expectReason(() => decryptCompact(withPart(token, 4, ''), resolve), 'jwe_malformed');
    });

    it('refuses a non-empty encrypted key for alg "dir"', () => {
      expectReason(() => decryptCompact(forge(goodHeader, { encryptedKey: b64u(randomBytes(40)) }), resolve), 'jwe_malformed');
    });

    it('refuses a missing, empty or non-string kid, and a non-string cty', () => {
      expectReason(() => decryptCompact(forge({ alg: 'dir', enc: 'A256GCM' }), resolve), 'jwe_malformed');
      expectReason(() => decryptCompact(forge({ ...goodHeader, kid: '' }), resolve), 'jwe_malformed');
      expectReason(() => decryptCompact(forge({ ...goodHeader, kid: 7 }), resolve), 'jwe_malformed');
      expectReason(() => decryptCompact(forge({ ...goodHeader, kid: [KID] }), resolve), 'jwe_malformed');
      expectReason(() => decryptCompact(forge({ ...goodHeader, cty: 1 }), resolve), 'jwe_malformed');
    });

    it('refuses empty input and garbage without calling the resolver', () => {
      const resolver = () => {
        throw new Error('resolver must not be called');
      };
      for (const garbage of ['', ' ', '.', '....', 'hello', 'a.b.c.d.e', 'eyJhbGciOiJkaXIifQ', '\u{1F600}'.repeat(5)]) {
        expectReason(() => decryptCompact(garbage, resolver), 'jwe_malformed');
      }
      expectReason(() => decryptCompact(new Uint8Array(0), resolver), 'jwe_malformed');
      expectReason(() => decryptCompact(randomBytes(300), resolver), 'jwe_malformed');
      expectReason(() => decryptCompact(undefined as unknown as string, resolver), 'jwe_malformed');
      expectReason(() => decryptCompact({ length: 3 } as unknown as string, resolver), 'jwe_malformed');
    });

    it('never throws anything but a ServiceAuthError on random mutations', () => {
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.+/= ';
      for (let i = 0; i < 500; i++) {
        const chars = token.split('');
        const pos = i % chars.length;
        chars[pos] = alphabet[(i * 7) % alphabet.length]!;
        const mutated = chars.join('');
        try {
          const { plaintext } = decryptCompact(mutated, resolve);
          expect(plaintext.equals(BODY)).toBe(true); // only a no-op mutation may succeed
          expect(mutated).toBe(token);
        } catch (err) {
          expect(err).toBeInstanceOf(ServiceAuthError);
        }
      }
    });
  });

  describe('algorithm policy -> jwe_unsupported', () => {
    it('refuses any alg other than "dir"', () => {
      for (const alg of ['A256KW', 'none', 'DIR', 'RSA-OAEP-256', 'ECDH-ES', '', null, 1]) {
        expectReason(() => decryptCompact(forge({ ...goodHeader, alg }), resolve), 'jwe_unsupported');
      }
      expectReason(() => decryptCompact(forge({ enc: 'A256GCM', kid: KID }), resolve), 'jwe_unsupported');
    });

    it('refuses any enc other than "A256GCM"', () => {
      for (const enc of ['A128GCM', 'A192GCM', 'A256CBC-HS512', 'A128CBC-HS256', 'a256gcm', '', null]) {
        expectReason(() => decryptCompact(forge({ ...goodHeader, enc }), resolve), 'jwe_unsupported');
      }
      expectReason(() => decryptCompact(forge({ alg: 'dir', kid: KID }), resolve), 'jwe_unsupported');
    });

    it('refuses zip and crit', () => {
      expectReason(() => decryptCompact(forge({ ...goodHeader, zip: 'DEF' }), resolve), 'jwe_unsupported');
      expectReason(() => decryptCompact(forge({ ...goodHeader, zip: null }), resolve), 'jwe_unsupported');
      expectReason(() => decryptCompact(forge({ ...goodHeader, crit: ['exp'], exp: 1 }), resolve), 'jwe_unsupported');
      expectReason(() => decryptCompact(forge({ ...goodHeader, crit: [] }), resolve), 'jwe_unsupported');
    });

    it('does not name the attacker value in the message', () => {
      const err = expectReason(() => decryptCompact(forge({ ...goodHeader, alg: '<script>' }), resolve), 'jwe_unsupported');
      expect(err.message).not.toContain('<script>');
    });
  });

  describe('size bound -> body_too_large', () => {
    it('refuses input above 1 MiB by default, before any parsing', () => {
      const resolver = () => {
        throw new Error('resolver must not be called');
      };
      expectReason(() => decryptCompact('a'.repeat(1024 * 1024 + 1), resolver), 'body_too_large');
      expectReason(() => decryptCompact('.'.repeat(1024 * 1024 + 1), resolver), 'body_too_large');
      expectReason(() => decryptCompact(new Uint8Array(1024 * 1024 + 1), resolver), 'body_too_large');
    });

    it('honours maxBytes, inclusive', () => {
      const token = encryptCompact(BODY, KEY, { kid: KID });
      expect(decryptCompact(token, resolve, { maxBytes: token.length }).plaintext.equals(BODY)).toBe(true);
      expectReason(() => decryptCompact(token, resolve, { maxBytes: token.length - 1 }), 'body_too_large');
      expectReason(() => decryptCompact(Buffer.from(token), resolve, { maxBytes: 100 }), 'body_too_large');
    });

    it('rejects a maxBytes that would lift the bound (programming error, not a refusal)', () => {
      const token = encryptCompact(BODY, KEY, { kid: KID });
      expect(() => decryptCompact(token, resolve, { maxBytes: Number.NaN })).toThrow(RangeError);
      expect(() => decryptCompact(token, resolve, { maxBytes: -1 })).toThrow(RangeError);
    });

    it('accepts a legitimate token close to the default bound', () => {
      const body = randomBytes(700 * 1024); // ~933 KiB once encoded
      const token = encryptCompact(body, KEY, { kid: KID });
      expect(token.length).toBeLessThanOrEqual(1024 * 1024);
      expect(decryptCompact(token, resolve).plaintext.equals(body)).toBe(true);
    });
  });

  describe('interoperability with jose', () => {
    it('jose.compactDecrypt opens what we produce, with the same protected header', async () => {
      const token = encryptCompact(BODY, KEY, { kid: KID, nonce: 'n-42' });
      const { plaintext, protectedHeader } = await jose.compactDecrypt(token, KEY);
      expect(Buffer.from(plaintext).equals(BODY)).toBe(true);
      expect(protectedHeader).toEqual(decryptCompact(token, resolve).header);
      expect(protectedHeader).toEqual({ alg: 'dir', enc: 'A256GCM', kid: KID, cty: 'application/json', nonce: 'n-42' });
    });

    it('we open what jose produces with dir + A256GCM', async () => {
      const token = await new jose.CompactEncrypt(BODY).setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: KID }).encrypt(KEY);
      const { plaintext, header } = decryptCompact(token, resolve);
      expect(plaintext.equals(BODY)).toBe(true);
      expect(header).toEqual({ alg: 'dir', enc: 'A256GCM', kid: KID });

      const empty = await new jose.CompactEncrypt(new Uint8Array(0))
        .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: KID })
        .encrypt(KEY);
      expect(decryptCompact(empty, resolve).plaintext).toHaveLength(0);
    });

    it('jose refuses what we produce when the key is wrong or the message is tampered', async () => {
      const token = encryptCompact(BODY, KEY, { kid: KID });
      await expect(jose.compactDecrypt(token, OTHER_KEY)).rejects.toThrow();
      await expect(jose.compactDecrypt(flipBit(token, 3), KEY)).rejects.toThrow();
    });

    it('we refuse jose output with enc A128GCM (16-byte key)', async () => {
      const token = await new jose.CompactEncrypt(BODY)
        .setProtectedHeader({ alg: 'dir', enc: 'A128GCM', kid: KID })
        .encrypt(randomBytes(16));
      expectReason(() => decryptCompact(token, resolve), 'jwe_unsupported');
    });

    it('we refuse jose output with alg A256KW', async () => {
      const token = await new jose.CompactEncrypt(BODY).setProtectedHeader({ alg: 'A256KW', enc: 'A256GCM', kid: KID }).encrypt(KEY);
      expect(token.split('.')[1]).not.toBe('');
      expectReason(() => decryptCompact(token, resolve), 'jwe_unsupported');
    });

    it('we refuse jose output with enc A256CBC-HS512 (64-byte key)', async () => {
      const token = await new jose.CompactEncrypt(BODY)
        .setProtectedHeader({ alg: 'dir', enc: 'A256CBC-HS512', kid: KID })
        .encrypt(randomBytes(64));
      expectReason(() => decryptCompact(token, resolve), 'jwe_unsupported');
    });
  });

  describe('names of Object.prototype members', () => {
    const NAMES = [...new Set(Object.getOwnPropertyNames(Object.prototype).flatMap((name) => [name, name.toLowerCase()]))];

    it.each(NAMES)('kid %j is an unknown key (key_unknown), never a member of the prototype', (kid) => {
      expectReason(() => decryptCompact(forge({ ...goodHeader, kid }), resolve), 'key_unknown');
    });

    it('alg and enc are read from the header itself, not from a "__proto__" member', () => {
      // JSON.parse makes "__proto__" an ordinary own member: the header still has no alg or enc.
      const header = `{"__proto__":{"alg":"dir","enc":"A256GCM"},"kid":"${KID}"}`;
      expectReason(() => decryptCompact(forge(header), resolve), 'jwe_unsupported');
    });

    it('members named "constructor" or "__proto__" next to a valid suite are extra members: the body opens', () => {
      const header = `{"alg":"dir","enc":"A256GCM","kid":"${KID}","constructor":1,"__proto__":{"zip":"DEF"}}`;
      expect(decryptCompact(forge(header), resolve).plaintext.equals(BODY)).toBe(true);
    });
  });
});
