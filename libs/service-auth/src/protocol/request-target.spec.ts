import { describe, expect, it } from '@jest/globals';
import { checkRequestTarget, checkRoutedHost, checkRoutedTarget } from './request-target.js';
import { refusalOf } from '../../test/refusal-of.js';

/** `reason: message` of the refusal of `check`, always a 400. */
function refusal(check: () => void): string {
  const error = refusalOf(check);
  expect(error.status).toBe(400);
  return `${error.reason}: ${error.message}`;
}

describe('checkRequestTarget: accepted (every byte of these is covered by @path and @query)', () => {
  it.each([
    '/',
    '/items',
    '/items/',
    '/items/1?sku=A-1&sku=B-2',
    '/items?',
    '/p?q=a+b&r=%2F&s=%zz', // the query is signed as sent, malformed escapes included
    '/files/a%2Fb', // an encoded slash is data inside one segment
    '/files/a%2fb/c',
    '/echo/1%23x', // an encoded # is data
    '/echo/1%3Frole=admin',
    '/echo/1;role=admin',
    '/a..b/c./.d/...', // dots inside a segment, and three dots, are not dot segments
    '/a/%2e%2e%2e',
    '/a?x=../..&y=//&z=\\', // dot segments, empty segments and backslashes are path rules only
    "/a/!$&'()*+,;=:@-._~",
    '/a?b=[1]&c={}|^`"<>',
  ])('%s', (target) => {
    expect(() => checkRequestTarget(target)).not.toThrow();
  });
});

describe('checkRequestTarget: refused with 400 request_target_invalid', () => {
  it.each([
    ['a fragment', '/echo/1#&role=admin', /fragment/],
    ['a fragment after the query', '/echo/1?a=1#&role=admin', /fragment/],
    ['an empty fragment', '/echo/1#', /fragment/],
    ['absolute-form', 'http://evil.example/echo/1?x=1', /origin-form/],
    ['absolute-form without a path', 'http://evil.example?x=1', /origin-form/],
    ['asterisk-form', '*', /origin-form/],
    ['a relative path', 'echo/1', /origin-form/],
    ['an empty target', '', /origin-form/],
    ['a leading backslash', '\\echo/1', /origin-form/],
    ['a backslash in the path', '/echo/1\\sub', /backslash/],
    ['a leading //', '//evil.example/echo/1', /empty segment/],
    ['an empty segment', '/files/a//b', /empty segment/],
    ['an empty segment before the query', '/files/a//?x=1', /empty segment/],
    ['..', '/files/a/../b', /"\." or "\.\."/],
    ['.', '/files/./a', /"\." or "\.\."/],
    ['a trailing ..', '/files/a/..', /"\." or "\.\."/],
    ['a trailing . before the query', '/files/.?x=1', /"\." or "\.\."/],
    ['%2e%2e', '/files/%2e%2e/x', /"\." or "\.\."/],
    ['%2E%2E', '/files/%2E%2E/x', /"\." or "\.\."/],
    ['.%2e', '/files/.%2e/x', /"\." or "\.\."/],
    ['%2e.', '/files/%2e./x', /"\." or "\.\."/],
    ['%2e', '/files/%2e/x', /"\." or "\.\."/],
    ['a malformed escape in the path', '/echo/%zz', /percent-escape/],
    ['a truncated escape', '/echo/%4', /percent-escape/],
    ['a lone %', '/echo/%', /percent-escape/],
    ['a raw non-ASCII character', '/echo/é', /visible ASCII/],
    ['UTF-8 bytes read as Latin-1', '/echo/\u00c3\u00a9', /visible ASCII/],
    ['a non-ASCII query', '/echo/1?q=é', /visible ASCII/],
    ['a space', '/echo/a b', /visible ASCII/],
    ['a control character', '/echo/a\tb', /visible ASCII/],
    ['DEL', '/echo/a\u007fb', /visible ASCII/],
  ])('%s: %j', (_name, target, message) => {
    const reason = refusal(() => checkRequestTarget(target));
    expect(reason).toMatch(/^request_target_invalid: /);
    expect(reason).toMatch(message);
  });
});

describe('checkRoutedTarget: the router must read the target received, or what Express left of it under its mount point', () => {
  it.each([
    ['the same target', '/echo/1?a=1', '/echo/1?a=1', undefined],
    ['the same target, mount point empty', '/echo/1?a=1', '/echo/1?a=1', ''],
    ['no routed URL known', '/echo/1', undefined, undefined],
    ['mounted at /api', '/api/echo/1?a=1', '/echo/1?a=1', '/api'],
    ['mounted at /api/v1', '/api/v1/echo/1', '/echo/1', '/api/v1'],
    ['the mount point itself ("/" added by Express)', '/api', '/', '/api'],
    ['the mount point with a query ("/" added by Express)', '/api?x=1', '/?x=1', '/api'],
    ['the mount point with a trailing slash', '/api/', '/', '/api'],
  ])('accepted: %s', (_name, received, routed, mountPoint) => {
    expect(() => checkRoutedTarget(received, routed, mountPoint)).not.toThrow();
  });

  it.each([
    ['rewritten to another path', '/echo/1', '/echo/2', undefined],
    ['rewritten to another query', '/echo/1?a=1', '/echo/1?a=2', undefined],
    ['a query added', '/echo/1', '/echo/1?role=admin', undefined],
    ['a suffix, nothing mounted (Fastify)', '/files/echo/7', '/echo/7', undefined],
    ['a suffix with its query, nothing mounted (Fastify)', '/files/x/echo/7?a=1', '/echo/7?a=1', undefined],
    ['a suffix, nothing mounted (Express)', '/files/echo/7', '/echo/7', ''],
    ['a shorter suffix than the mount point leaves', '/api/files/echo/7', '/echo/7', '/api'],
    ['another mount point than the one received', '/v2/echo/1', '/echo/1', '/api'],
    ['the mount point itself, routed elsewhere', '/api', '/x', '/api'],
    ['a "/" that was not added: the rest had a query', '/api?x=1', '/?y=1', '/api'],
    ['the rest of a mount point that is empty but not added', '/api', '/?x=1', '/api'],
    ['a cut inside a segment', '/api/echo', '/i/echo', ''],
    ['a cut that is not at a "/"', '/ab', '/b', ''],
    ['a cut inside the query', '/echo?x=/1', '/1', ''],
    ['a longer URL than received', '/1', '/echo/1', ''],
  ])('refused: %s', (_name, received, routed, mountPoint) => {
    expect(refusal(() => checkRoutedTarget(received, routed, mountPoint))).toMatch(/^request_target_invalid: /);
  });
});

describe('checkRoutedHost: a host-scoped route must be chosen by the host of the authority received (signed as @authority)', () => {
  it.each([
    ['the same host', 'api.bank.local', 'api.bank.local'],
    ['the port left out by the router', 'api.bank.local:8443', 'api.bank.local'],
    ['another case', 'API.Bank.Local', 'api.bank.local'],
    ['an IPv6 literal with its port', '[::1]:3000', '[::1]'],
    ['no Host at all, no host routed', undefined, ''],
  ])('accepted: %s', (_name, authority, routed) => {
    expect(() => checkRoutedHost(authority, routed)).not.toThrow();
  });

  it.each([
    ['another host (X-Forwarded-Host under a trusted proxy)', 'api.bank.local', 'admin.bank.local'],
    ['a host where Host had none', undefined, 'admin.bank.local'],
    ['a subdomain of the host', 'bank.local', 'admin.bank.local'],
    ['another IPv6 literal', '[::1]:3000', '[::2]'],
  ])('refused: %s', (_name, authority, routed) => {
    expect(refusal(() => checkRoutedHost(authority, routed))).toMatch(/^request_target_invalid: /);
  });
});
