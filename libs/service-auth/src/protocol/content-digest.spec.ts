import { describe, it, expect } from '@jest/globals';
import { createHash } from 'node:crypto';
import { createContentDigest, verifyContentDigest } from './content-digest.js';
import { reasonOf } from '../../test/refusal-of.js';

const body = Buffer.from('{"orderId":42,"items":["a","b"]}\n', 'utf8');
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('base64');
const sha512 = (b: Uint8Array) => createHash('sha512').update(b).digest('base64');

/** The reason verifyContentDigest refuses `header` with, for `bytes`. */
const refusedWith = (header: string | undefined, bytes: Uint8Array = body): string => reasonOf(() => verifyContentDigest(header, bytes));

describe('createContentDigest', () => {
  it('sha-256 (default) matches node:crypto over the exact bytes', () => {
    expect(createContentDigest(body)).toBe(`sha-256=:${sha256(body)}:`);
    expect(createContentDigest(body, 'sha-256')).toBe(`sha-256=:${sha256(body)}:`);
  });

  it('sha-512 matches node:crypto', () => {
    expect(createContentDigest(body, 'sha-512')).toBe(`sha-512=:${sha512(body)}:`);
  });

  it('the empty body has the well-known sha-256', () => {
    expect(createContentDigest(new Uint8Array(0))).toBe('sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:');
  });

  it('is over bytes, not text: a different encoding of the same text differs', () => {
    expect(createContentDigest(Buffer.from('é', 'utf8'))).not.toBe(createContentDigest(Buffer.from('é', 'latin1')));
  });
});

describe('verifyContentDigest', () => {
  it('accepts a correct sha-256 and a correct sha-512', () => {
    expect(() => verifyContentDigest(`sha-256=:${sha256(body)}:`, body)).not.toThrow();
    expect(() => verifyContentDigest(`sha-512=:${sha512(body)}:`, body)).not.toThrow();
    expect(() => verifyContentDigest(createContentDigest(new Uint8Array(0)), new Uint8Array(0))).not.toThrow();
  });

  it('accepts other spellings of a correct sha-256 (no padding, spare bits set, spaces) as the same bytes', () => {
    const canonical = sha256(body);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    // The last character before "=" carries 4 bits of the digest and 2 spare bits, which decoders ignore.
    const spareBitsSet = canonical.slice(0, 42) + alphabet[alphabet.indexOf(canonical[42]) | 0b11] + '=';
    expect(Buffer.from(spareBitsSet, 'base64')).toEqual(Buffer.from(canonical, 'base64'));
    for (const value of [canonical.replace(/=$/, ''), spareBitsSet]) {
      expect(() => verifyContentDigest(`sha-256=:${value}:`, body)).not.toThrow();
    }
    expect(() => verifyContentDigest(` sha-256=:${canonical}:`, body)).not.toThrow();
  });

  it('a sha-256 of the expected form but over other bytes is digest_mismatch; a broken one digest_malformed', () => {
    expect(refusedWith(`sha-256=:${sha256(Buffer.from('other'))}:`)).toBe('digest_mismatch');
    expect(refusedWith(`sha-256=:${'*'.repeat(43)}=:`)).toBe('digest_malformed');
    expect(refusedWith(`sha-256=:${sha256(body).slice(0, 42)}==:`)).toBe('digest_malformed');
  });

  it('accepts both algorithms together when both match', () => {
    expect(() => verifyContentDigest(`sha-512=:${sha512(body)}:, sha-256=:${sha256(body)}:`, body)).not.toThrow();
  });

  it('ignores unknown algorithms next to a correct known one', () => {
    expect(() => verifyContentDigest(`md5=:AAAA:, sha-256=:${sha256(body)}:, unixsum=1`, body)).not.toThrow();
  });

  it('a body that differs from the digest is digest_mismatch', () => {
    expect(refusedWith(createContentDigest(body), Buffer.from('{"orderId":43,"items":["a","b"]}\n'))).toBe('digest_mismatch');
    expect(refusedWith(createContentDigest(body, 'sha-512'), Buffer.concat([body, Buffer.from(' ')]))).toBe('digest_mismatch');
    expect(refusedWith(createContentDigest(new Uint8Array(0)), body)).toBe('digest_mismatch');
  });

  it('checks every supported algorithm: one wrong among several is digest_mismatch', () => {
    const other = Buffer.from('other');
    expect(refusedWith(`sha-256=:${sha256(body)}:, sha-512=:${sha512(other)}:`)).toBe('digest_mismatch');
    expect(refusedWith(`sha-512=:${sha512(body)}:, sha-256=:${sha256(other)}:`)).toBe('digest_mismatch');
  });

  it('no header is digest_missing', () => {
    expect(refusedWith(undefined)).toBe('digest_missing');
  });

  it('a header that is not a structured dictionary is digest_malformed', () => {
    for (const header of ['sha-256=:abc', 'sha-256 = :x:', '(((', 'SHA-256=:AAAA:', 'sha-256=:é:', '=:AAAA:']) {
      expect(refusedWith(header)).toBe('digest_malformed');
    }
  });

  it('a digest of the wrong length is digest_malformed', () => {
    expect(refusedWith('sha-256=:AAAA:')).toBe('digest_malformed');
    expect(refusedWith(`sha-256=:${sha512(body)}:`)).toBe('digest_malformed');
    expect(refusedWith(`sha-512=:${sha256(body)}:`)).toBe('digest_malformed');
    expect(refusedWith('sha-256=::')).toBe('digest_malformed');
  });

  it('a digest that is not a byte sequence is digest_malformed', () => {
    expect(refusedWith(`sha-256="${sha256(body)}"`)).toBe('digest_malformed');
    expect(refusedWith('sha-256=42')).toBe('digest_malformed');
    expect(refusedWith('sha-256')).toBe('digest_malformed');
    expect(refusedWith(`sha-256=(:${sha256(body)}:)`)).toBe('digest_malformed');
  });

  it('a header naming only unknown algorithms is digest_malformed (it proves nothing)', () => {
    expect(refusedWith('md5=:AAAAAAAAAAAAAAAAAAAAAA==:')).toBe('digest_malformed');
    expect(refusedWith('sha=:AAAA:, unixsum=:AAAA:')).toBe('digest_malformed');
    expect(refusedWith('')).toBe('digest_malformed');
  });

  it('members named after Object.prototype properties are unknown algorithms, not a crash', () => {
    // `constructor` once resolved to Object (length 1) and reached createHash(undefined): a TypeError, i.e. a 500.
    expect(refusedWith('constructor=:AA==:')).toBe('digest_malformed');
    expect(refusedWith('constructor=:AA==:, tostring=:AA==:, valueof=1')).toBe('digest_malformed');
    expect(() => verifyContentDigest(`constructor=:AA==:, sha-256=:${sha256(body)}:`, body)).not.toThrow();
  });

  it.each(
    [...new Set(Object.getOwnPropertyNames(Object.prototype).map((name) => name.toLowerCase()))].filter((name) => /^[a-z]/.test(name)),
  )('a member named %s is an unknown algorithm: ignored next to sha-256, digest_malformed alone', (name) => {
    expect(() => verifyContentDigest(`${name}=:${sha256(body)}:, sha-256=:${sha256(body)}:`, body)).not.toThrow();
    expect(refusedWith(`${name}=:${sha256(body)}:`)).toBe('digest_malformed');
  });
});
