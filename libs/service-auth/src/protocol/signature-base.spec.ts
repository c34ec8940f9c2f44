import { describe, it, expect } from '@jest/globals';
import { httpMessage, type HttpMessage } from './http-message.js';
import { ServiceAuthError } from '../errors/service-auth.error.js';
import { buildSignatureBase, componentValue, isSupportedComponent } from './signature-base.js';

const PARAMS = '("@method");created=1700000000';

function msg(init: Partial<Parameters<typeof httpMessage>[0]> = {}): HttpMessage {
  return httpMessage({ method: 'GET', target: '/', headers: {}, ...init });
}

function refusal(fn: () => unknown): ServiceAuthError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ServiceAuthError);
    return err as ServiceAuthError;
  }
  throw new Error('expected a ServiceAuthError, but nothing was thrown');
}

describe('derived components (RFC 9421 §2.2)', () => {
  it('@method is the method exactly as sent', () => {
    expect(componentValue(msg({ method: 'POST' }), '@method')).toBe('POST');
    expect(componentValue(msg({ method: 'PATCH' }), '@method')).toBe('PATCH');
  });

  it('@path is the path without the query', () => {
    expect(componentValue(msg({ target: '/orders/42?x=1' }), '@path')).toBe('/orders/42');
    expect(componentValue(msg({ target: '/' }), '@path')).toBe('/');
  });

  it('@path is not normalised: dot segments and double slashes stay as sent', () => {
    expect(componentValue(msg({ target: '/a/../b' }), '@path')).toBe('/a/../b');
    expect(componentValue(msg({ target: '/a/./b//c' }), '@path')).toBe('/a/./b//c');
    expect(componentValue(msg({ target: '/caf%C3%A9' }), '@path')).toBe('/caf%C3%A9');
  });

  it('@query keeps percent-encoding, repetition and order exactly as sent', () => {
    expect(componentValue(msg({ target: '/p?a=1&a=2&b=%20x' }), '@query')).toBe('?a=1&a=2&b=%20x');
    expect(componentValue(msg({ target: '/p?z=1&a=2' }), '@query')).toBe('?z=1&a=2');
    expect(componentValue(msg({ target: '/p?q=a+b&r=%2F' }), '@query')).toBe('?q=a+b&r=%2F');
  });

  it('@query of a target without a query is "?"', () => {
    expect(componentValue(msg({ target: '/p' }), '@query')).toBe('?');
  });

  it('@query of a target with an empty query is "?"', () => {
    expect(componentValue(msg({ target: '/p?' }), '@query')).toBe('?');
  });

  it('a fragment is never part of @path or @query', () => {
    expect(componentValue(msg({ target: '/p?a=1#frag' }), '@query')).toBe('?a=1');
    expect(componentValue(msg({ target: '/p#frag' }), '@path')).toBe('/p');
  });

  it('@request-target is the target exactly as sent, query included', () => {
    expect(componentValue(msg({ target: '/a/../b?x=%20&x=2' }), '@request-target')).toBe('/a/../b?x=%20&x=2');
  });

  it('absolute-form target: @path and @query drop scheme and authority, @request-target keeps the form', () => {
    const m = msg({ target: 'https://api.example.com/v1/orders?id=7&id=8' });
    expect(componentValue(m, '@path')).toBe('/v1/orders');
    expect(componentValue(m, '@query')).toBe('?id=7&id=8');
    expect(componentValue(m, '@request-target')).toBe('https://api.example.com/v1/orders?id=7&id=8');
  });

  it('absolute-form target without a path: @path is "/" (also when only a query follows)', () => {
    expect(componentValue(msg({ target: 'http://example.com' }), '@path')).toBe('/');
    expect(componentValue(msg({ target: 'http://example.com' }), '@query')).toBe('?');
    expect(componentValue(msg({ target: 'http://example.com?x=1' }), '@path')).toBe('/');
    expect(componentValue(msg({ target: 'http://example.com?x=1' }), '@query')).toBe('?x=1');
  });

  it('@authority is lowercased', () => {
    expect(componentValue(msg({ authority: 'API.Example.COM', scheme: 'https' }), '@authority')).toBe('api.example.com');
  });

  it('@authority drops the default port of its scheme (http:80, https:443)', () => {
    expect(componentValue(msg({ authority: 'example.com:80', scheme: 'http' }), '@authority')).toBe('example.com');
    expect(componentValue(msg({ authority: 'example.com:443', scheme: 'https' }), '@authority')).toBe('example.com');
    expect(componentValue(msg({ authority: '[::1]:443', scheme: 'https' }), '@authority')).toBe('[::1]');
  });

  it("@authority keeps a non-default port, including the other scheme's default", () => {
    expect(componentValue(msg({ authority: 'example.com:8080', scheme: 'http' }), '@authority')).toBe('example.com:8080');
    expect(componentValue(msg({ authority: 'example.com:8080', scheme: 'https' }), '@authority')).toBe('example.com:8080');
    expect(componentValue(msg({ authority: 'example.com:443', scheme: 'http' }), '@authority')).toBe('example.com:443');
    expect(componentValue(msg({ authority: 'example.com:80', scheme: 'https' }), '@authority')).toBe('example.com:80');
    expect(componentValue(msg({ authority: '[::1]', scheme: 'https' }), '@authority')).toBe('[::1]');
  });

  it('@authority falls back to the Host header', () => {
    expect(componentValue(msg({ headers: { Host: 'Svc.Internal:9000' } }), '@authority')).toBe('svc.internal:9000');
  });

  it('@authority is absent without authority or Host', () => {
    expect(componentValue(msg(), '@authority')).toBeUndefined();
  });

  it('@scheme is lowercased, absent when unknown', () => {
    expect(componentValue(msg({ scheme: 'HTTPS' }), '@scheme')).toBe('https');
    expect(componentValue(msg({ scheme: 'http' }), '@scheme')).toBe('http');
    expect(componentValue(msg(), '@scheme')).toBeUndefined();
  });

  it('@target-uri is scheme://authority/path?query with authority normalised', () => {
    const m = msg({ method: 'POST', target: '/a/../b?x=1&x=%2F', authority: 'Example.COM:443', scheme: 'https' });
    expect(componentValue(m, '@target-uri')).toBe('https://example.com/a/../b?x=1&x=%2F');
    expect(componentValue(msg({ target: '/p', authority: 'h:8080', scheme: 'http' }), '@target-uri')).toBe('http://h:8080/p');
  });

  it('@target-uri is absent without scheme or authority', () => {
    expect(componentValue(msg({ authority: 'h' }), '@target-uri')).toBeUndefined();
    expect(componentValue(msg({ scheme: 'https' }), '@target-uri')).toBeUndefined();
  });
});

describe('header components (RFC 9421 §2.1)', () => {
  it('are looked up case-insensitively and trimmed', () => {
    const m = msg({ headers: { 'Content-Type': '  application/json \t' } });
    expect(componentValue(m, 'content-type')).toBe('application/json');
  });

  it('keeps inner whitespace', () => {
    expect(componentValue(msg({ headers: { 'x-v': 'a  b' } }), 'x-v')).toBe('a  b');
  });

  it('trims each repeated header line (array value), then joins them with ", "', () => {
    const m = msg({ headers: { 'cache-control': ['max-age=60', ' must-revalidate '] } });
    expect(componentValue(m, 'cache-control')).toBe('max-age=60, must-revalidate');
    expect(componentValue(msg({ headers: { 'x-list': ['a', 'b', 'c'] } }), 'x-list')).toBe('a, b, c');
  });

  it('joins the same header given under two spellings', () => {
    expect(componentValue(msg({ headers: { 'X-Dup': 'one ', 'x-dup': ' two' } }), 'x-dup')).toBe('one, two');
  });

  it('replaces obs-fold with a single space', () => {
    expect(componentValue(msg({ headers: { 'x-folded': 'first,\r\n   second' } }), 'x-folded')).toBe('first, second');
    expect(componentValue(msg({ headers: { 'x-folded': 'a\r\n\tb' } }), 'x-folded')).toBe('a b');
  });

  it('an empty header is an empty value, not an absent one', () => {
    expect(componentValue(msg({ headers: { 'x-empty': '' } }), 'x-empty')).toBe('');
  });

  it('an absent header is undefined', () => {
    expect(componentValue(msg(), 'x-nope')).toBeUndefined();
  });
});

describe('isSupportedComponent', () => {
  it('accepts the derived components and lowercase field names', () => {
    for (const name of [
      '@method',
      '@path',
      '@query',
      '@request-target',
      '@authority',
      '@scheme',
      '@target-uri',
      'content-type',
      'x-api-key',
    ]) {
      expect(isSupportedComponent(name)).toBe(true);
    }
  });

  it('takes a field name exactly when it is made of lowercase tchars (every character checked)', () => {
    const lowercaseTchars = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;
    for (let c = 0; c < 0x180; c++) {
      const name = `x${String.fromCharCode(c)}y`;
      expect({ name, supported: isSupportedComponent(name) }).toEqual({ name, supported: lowercaseTchars.test(name) });
    }
  });

  it('refuses unknown derived components, uppercase and empty names', () => {
    for (const name of ['@status', '@query-param', '@signature-params', 'Content-Type', '', 'a b', 'x:y']) {
      expect(isSupportedComponent(name)).toBe(false);
    }
  });
});

describe('buildSignatureBase (RFC 9421 §2.5)', () => {
  it('builds a body-less GET base line by line, in covered order, without a trailing newline', () => {
    const m = msg({ method: 'GET', target: '/orders?id=1', headers: { 'X-API-Key': 'sk_test' } });
    const params = '("@method" "@path" "@query" "x-api-key");created=1700000000;nonce="n";keyid="k1";alg="hmac-sha256"';
    expect(buildSignatureBase(m, ['@method', '@path', '@query', 'x-api-key'], params)).toBe(
      '"@method": GET\n' + '"@path": /orders\n' + '"@query": ?id=1\n' + '"x-api-key": sk_test\n' + `"@signature-params": ${params}`,
    );
  });

  it('a GET without query covers "?" as its query', () => {
    const m = msg({ target: '/p' });
    expect(buildSignatureBase(m, ['@query'], PARAMS)).toBe(`"@query": ?\n"@signature-params": ${PARAMS}`);
  });

  it('follows the covered order, not a canonical one', () => {
    const m = msg({ method: 'DELETE', target: '/x', headers: { a: '1' } });
    expect(buildSignatureBase(m, ['a', '@path', '@method'], PARAMS)).toBe(
      `"a": 1\n"@path": /x\n"@method": DELETE\n"@signature-params": ${PARAMS}`,
    );
  });

  it('with no covered components the base is the params line alone', () => {
    expect(buildSignatureBase(msg(), [], PARAMS)).toBe(`"@signature-params": ${PARAMS}`);
  });

  it('a missing covered header is signature_invalid', () => {
    const err = refusal(() => buildSignatureBase(msg(), ['@method', 'x-tenant'], PARAMS));
    expect(err.reason).toBe('signature_invalid');
    expect(err.message).toContain('x-tenant');
  });

  it('a missing derived component (@authority without Host) is signature_invalid', () => {
    expect(refusal(() => buildSignatureBase(msg(), ['@authority'], PARAMS)).reason).toBe('signature_invalid');
  });

  it('a missing content-digest is digest_missing', () => {
    expect(
      refusal(() => buildSignatureBase(msg({ headers: { 'content-type': 'text/plain' } }), ['content-type', 'content-digest'], PARAMS))
        .reason,
    ).toBe('digest_missing');
  });

  it('a LF in a header value is signature_malformed', () => {
    expect(refusal(() => buildSignatureBase(msg({ headers: { 'x-evil': 'a\nb' } }), ['x-evil'], PARAMS)).reason).toBe(
      'signature_malformed',
    );
  });

  it('a CR in a header value is signature_malformed', () => {
    expect(refusal(() => buildSignatureBase(msg({ headers: { 'x-evil': 'a\rb' } }), ['x-evil'], PARAMS)).reason).toBe(
      'signature_malformed',
    );
  });

  it('a CRLF that is not an obs-fold (no following whitespace) is signature_malformed', () => {
    expect(refusal(() => buildSignatureBase(msg({ headers: { 'x-evil': 'a\r\n"@method": POST' } }), ['x-evil'], PARAMS)).reason).toBe(
      'signature_malformed',
    );
  });

  it('a line break smuggled through the target is signature_malformed', () => {
    expect(refusal(() => buildSignatureBase(msg({ target: '/p?x=1\n"@method": POST' }), ['@query'], PARAMS)).reason).toBe(
      'signature_malformed',
    );
    expect(refusal(() => buildSignatureBase(msg({ method: 'GET\nX' }), ['@method'], PARAMS)).reason).toBe('signature_malformed');
  });
});
