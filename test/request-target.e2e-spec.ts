/**
 * What the router sees must be what was signed. Every way a raw request target can differ between
 * the signed `@path`/`@query` and what Express or Fastify route and parse, sent byte for byte over
 * a fresh connection, on both adapters. For each, either the handler receives exactly (the decoding
 * of) the signed target, or the request is refused with 400 `request_target_invalid`, or the router
 * itself answers before any handler (and so before any guard) runs.
 *
 * The handlers of the echo service answer with what they were given: route parameters, the parsed
 * query and the URL the router matched.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Adapter } from './support/demo-services.js';
import { startEchoService, type EchoService, type EchoServiceOptions } from './support/echo-service.js';
import { jsonField, rawRequest, signatureValue, signedHeadersForTarget, type RawResponse } from './support/raw-http.js';
import { expectNoLeak, expectRefusal } from './support/refusals.js';

const ADAPTERS: Adapter[] = ['express', 'fastify'];

/** Starts an echo service for a describe block and gives it the send-and-check helpers. */
function useEchoService(adapter: Adapter, options: EchoServiceOptions = {}) {
  let svc: EchoService;
  beforeAll(async () => {
    svc = await startEchoService(adapter, options);
  });
  afterAll(async () => {
    await svc?.close();
  });

  const helpers = {
    get service() {
      return svc;
    },
    /** Signs `signed` (by default the very target sent), sends `sent` exactly, returns the answer. */
    async send(sent: string, signed = sent, headers: Record<string, string> = {}): Promise<RawResponse> {
      const signedHeaders = signedHeadersForTarget(svc.caller, { method: 'GET', target: signed, headers });
      svc.secrets.push(signatureValue(signedHeaders));
      return rawRequest(svc.url, { method: 'GET', path: sent, headers: signedHeaders });
    },
    /** 400 request_target_invalid, and no handler ran. */
    async expectTargetRefused(sent: string, signed = sent, headers: Record<string, string> = {}): Promise<void> {
      const before = svc.calls.count;
      expectRefusal(await helpers.send(sent, signed, headers), 400, 'request_target_invalid', svc.secrets);
      expect(svc.calls.count).toBe(before);
    },
    /** The handler ran, was routed on the very target that was signed, and was handed `expected`. */
    async expectServed(target: string, expected: Record<string, unknown>): Promise<void> {
      const res = await helpers.send(target);
      expect({ status: res.status, body: res.json }).toEqual({ status: 200, body: { ...expected, url: target } });
    },
    /** The router answered `status` itself: no handler, hence no guard, ever saw the request. */
    async expectRouterAnswer(sent: string, status: number): Promise<void> {
      const before = svc.calls.count;
      const res = await helpers.send(sent);
      expect(res.status).toBe(status);
      expectNoLeak(res, svc.secrets);
      expect(svc.calls.count).toBe(before);
    },
    /** A signature made for `signed` does not carry over to `sent`: 401 signature_invalid. */
    async expectSignatureInvalid(sent: string, signed: string): Promise<void> {
      const before = svc.calls.count;
      expectRefusal(await helpers.send(sent, signed), 401, 'signature_invalid', svc.secrets);
      expect(svc.calls.count).toBe(before);
    },
  };
  return helpers;
}

describe.each(ADAPTERS)('request targets with default routing (%s)', (adapter) => {
  const echo = useEchoService(adapter);
  /** Fastify names a wildcard parameter `*` and keeps it whole; Express splits it into decoded segments. */
  const wildcard = (...segments: string[]) => (adapter === 'fastify' ? { '*': segments.join('/') } : { path: segments });

  it('control: a plain signed target is served', async () => {
    await echo.expectServed('/echo/1?a=1', { handler: 'echo', id: '1', query: { a: '1' } });
  });

  describe('a fragment (#) is refused: the signature left it out, and Fastify reads it as query', () => {
    it('signed /echo/1, sent /echo/1#&role=admin → 400 request_target_invalid (Fastify would see role=admin)', async () => {
      await echo.expectTargetRefused('/echo/1#&role=admin', '/echo/1');
    });

    it('signed /echo/1?a=1, sent /echo/1?a=1#&role=admin → 400 request_target_invalid', async () => {
      await echo.expectTargetRefused('/echo/1?a=1#&role=admin', '/echo/1?a=1');
    });

    it('an encoded # (%23) is data, not a fragment: served as the id "1#x"', async () => {
      await echo.expectServed('/echo/1%23x', { handler: 'echo', id: '1#x', query: {} });
    });
  });

  describe('absolute-form, asterisk-form and targets without a leading "/"', () => {
    it('absolute-form with a foreign authority → 400 request_target_invalid (its scheme and authority are not signed)', async () => {
      await echo.expectTargetRefused('http://evil.example/echo/1?x=1');
    });

    it("absolute-form with the server's own authority → 400 request_target_invalid", async () => {
      const { host } = new URL(echo.service.url);
      await echo.expectTargetRefused(`http://${host}/echo/1`);
    });

    it('* (asterisk-form) → 404 from the router: no route, no handler', async () => {
      await echo.expectRouterAnswer('*', 404);
    });

    it('echo/1 and \\echo/1 (no leading "/") → 400 from the HTTP parser, before any router', async () => {
      await echo.expectRouterAnswer('echo/1', 400);
      await echo.expectRouterAnswer('\\echo/1', 400);
    });
  });

  describe('empty segments (//)', () => {
    it('/files/a//b reaches a wildcard route → 400 request_target_invalid', async () => {
      await echo.expectTargetRefused('/files/a//b');
    });

    it('/echo//1 and //files/a match no route → 404 from the router', async () => {
      await echo.expectRouterAnswer('/echo//1', 404);
      await echo.expectRouterAnswer('//files/a', 404);
    });

    it('a trailing slash is not an empty segment: /files/a/ is served', async () => {
      await echo.expectServed('/files/a/', { handler: 'files', params: wildcard('a', '') });
    });
  });

  describe('dot segments', () => {
    it.each(['/files/a/../b', '/files/./a', '/files/%2E%2E/x', '/files/a/.%2e/b', '/echo/%2e%2e', '/echo/.'])(
      '%s → 400 request_target_invalid',
      async (target) => {
        await echo.expectTargetRefused(target);
      },
    );

    it('/a/../echo/1 and /echo/./1 match no route → 404 from the router (routers do not resolve dot segments)', async () => {
      await echo.expectRouterAnswer('/a/../echo/1', 404);
      await echo.expectRouterAnswer('/echo/./1', 404);
    });

    it('dots inside a segment are data: /files/a..b/c. is served', async () => {
      await echo.expectServed('/files/a..b/c.', { handler: 'files', params: wildcard('a..b', 'c.') });
    });
  });

  describe('percent-encoding: the handler gets the decoding of the signed bytes; re-encoding breaks the signature', () => {
    it('%2F stays inside its segment: /echo/a%2Fb is the id "a/b", /echo/a%2fb/sub is the sub route', async () => {
      await echo.expectServed('/echo/a%2Fb', { handler: 'echo', id: 'a/b', query: {} });
      await echo.expectServed('/echo/a%2fb/sub', { handler: 'echo-sub', id: 'a/b', query: {} });
      await echo.expectServed('/files/a%2Fb', { handler: 'files', params: wildcard('a/b') });
    });

    it('/echo/%31 is the id "1"', async () => {
      await echo.expectServed('/echo/%31', { handler: 'echo', id: '1', query: {} });
    });

    it('signed /echo/1, sent /echo/%31 (same route) → 401 signature_invalid', async () => {
      await echo.expectSignatureInvalid('/echo/%31', '/echo/1');
    });

    it('signed /files/a%2Fb, sent /files/a/b → 401 signature_invalid', async () => {
      await echo.expectSignatureInvalid('/files/a/b', '/files/a%2Fb');
    });

    it('a malformed escape in the query is kept as sent: /echo/1?a=%zz', async () => {
      await echo.expectServed('/echo/1?a=%zz', { handler: 'echo', id: '1', query: { a: '%zz' } });
    });

    it('a malformed escape in the path (/echo/%zz) → 400 from the router, which cannot decode the parameter', async () => {
      await echo.expectRouterAnswer('/echo/%zz', 400);
    });
  });

  describe('"?" inside the path and the query', () => {
    it('an encoded ? (%3F) is path data: /echo/1%3Frole=admin is the id "1?role=admin" with no query', async () => {
      await echo.expectServed('/echo/1%3Frole=admin', { handler: 'echo', id: '1?role=admin', query: {} });
    });

    it('a second ? belongs to the query: /echo/1?a=1?b=2 is a = "1?b=2"', async () => {
      await echo.expectServed('/echo/1?a=1?b=2', { handler: 'echo', id: '1', query: { a: '1?b=2' } });
    });

    it('signed /echo/1?a=1, sent /echo/1?a=1?b=2 → 401 signature_invalid', async () => {
      await echo.expectSignatureInvalid('/echo/1?a=1?b=2', '/echo/1?a=1');
    });
  });

  describe('";" matrix parameters', () => {
    it('/echo/1;role=admin is the id "1;role=admin" (no router splits on ";" by default)', async () => {
      await echo.expectServed('/echo/1;role=admin', { handler: 'echo', id: '1;role=admin', query: {} });
    });

    it('signed /echo/1, sent /echo/1;role=admin → 401 signature_invalid', async () => {
      await echo.expectSignatureInvalid('/echo/1;role=admin', '/echo/1');
    });
  });

  describe('backslashes (URL parsers such as WHATWG URL read "\\" as "/")', () => {
    it.each(['/echo/1\\sub', '/files/a\\b', '/files/a\\..\\b'])('%s → 400 request_target_invalid', async (target) => {
      await echo.expectTargetRefused(target);
    });

    it('/echo\\1 matches no route → 404 from the router', async () => {
      await echo.expectRouterAnswer('/echo\\1', 404);
    });
  });

  describe('raw non-ASCII bytes', () => {
    it('UTF-8 bytes (/echo/é as C3 A9) and a Latin-1 byte (E9) → 400 from the HTTP parser, before any router', async () => {
      // rawRequest writes the target as Latin-1: each of these characters is one byte on the wire.
      await echo.expectRouterAnswer('/echo/\u00c3\u00a9', 400);
      await echo.expectRouterAnswer('/echo/\u00e9', 400);
    });
  });
});

describe.each(ADAPTERS)('a URL rewritten before routing: the router must read (the rest of) the signed target (%s)', (adapter) => {
  /** An X-Original-URL style rewrite, driven by an unsigned header, as some proxies and middlewares do. */
  const rewrite = (url: string, header: unknown) => (typeof header === 'string' ? header : url);
  const echo = useEchoService(
    adapter,
    adapter === 'fastify'
      ? { fastify: { rewriteUrl: (req) => rewrite(req.url ?? '/', req.headers['x-original-url']) } }
      : {
          express: (app) =>
            app.use((req, _res, next) => {
              req.url = rewrite(req.url, req.headers['x-original-url']);
              next();
            }),
        },
  );

  it('control: without the header, the signed target is served', async () => {
    await echo.expectServed('/echo/1', { handler: 'echo', id: '1', query: {} });
  });

  it('signed and sent /echo/1, rewritten to /echo/2 by an unsigned header → 400 request_target_invalid', async () => {
    await echo.expectTargetRefused('/echo/1', '/echo/1', { 'x-original-url': '/echo/2' });
  });

  // Nothing is mounted here (and Fastify mounts nothing): a suffix of the signed target is not "the
  // rest after a mount point", it is another handler's URL.
  it('signed and sent /files/echo/7 (files handler), rewritten to its suffix /echo/7 (echo handler) → 400 request_target_invalid', async () => {
    await echo.expectTargetRefused('/files/echo/7', '/files/echo/7', { 'x-original-url': '/echo/7' });
  });

  it('signed and sent /files/x/echo/7?a=1, rewritten to its suffix /echo/7?a=1 → 400 request_target_invalid', async () => {
    await echo.expectTargetRefused('/files/x/echo/7?a=1', '/files/x/echo/7?a=1', { 'x-original-url': '/echo/7?a=1' });
  });
});

describe('an Express application mounted under a path of another (Express)', () => {
  const echo = useEchoService('express', { mountPath: '/api' });

  it('the caller signs the full target it sends; the mounted router reads the rest of it', async () => {
    const res = await echo.send('/api/echo/1?a=1');
    expect({ status: res.status, body: res.json }).toEqual({
      status: 200,
      body: { handler: 'echo', id: '1', query: { a: '1' }, url: '/echo/1?a=1' },
    });
  });

  it('a signature over the path without the mount point → 401 signature_invalid', async () => {
    await echo.expectSignatureInvalid('/api/echo/1', '/echo/1');
  });
});

describe('an Express application mounted under a path of another, which rewrites URLs from an unsigned header (Express)', () => {
  const rewrite = (url: string, header: unknown) => (typeof header === 'string' ? header : url);
  const echo = useEchoService('express', {
    mountPath: '/api',
    express: (app) =>
      app.use((req, _res, next) => {
        req.url = rewrite(req.url, req.headers['x-original-url']);
        next();
      }),
  });

  it('control: without the header, the signed target is served under the mount point', async () => {
    const res = await echo.send('/api/echo/1');
    expect({ status: res.status, handler: jsonField(res, 'handler'), url: jsonField(res, 'url') }).toEqual({
      status: 200,
      handler: 'echo',
      url: '/echo/1',
    });
  });

  it('signed /api/files/echo/7, rewritten inside the mounted app to /echo/7 (a suffix) → 400 request_target_invalid', async () => {
    await echo.expectTargetRefused('/api/files/echo/7', '/api/files/echo/7', { 'x-original-url': '/echo/7' });
  });

  it('signed /api/echo/1, rewritten inside the mounted app to /echo/2 → 400 request_target_invalid', async () => {
    await echo.expectTargetRefused('/api/echo/1', '/api/echo/1', { 'x-original-url': '/echo/2' });
  });
});

/**
 * Routing normalisation a Fastify user may turn on. The signature covers the target as sent, so a
 * router that maps several targets to one handler can never make a signature made for one of them
 * serve another: each must be signed as sent. Express matches case-insensitively and ignores a
 * trailing slash by default, which the default-routing block above and service-auth.e2e-spec cover.
 */
describe('Fastify with ignoreDuplicateSlashes, ignoreTrailingSlash, useSemicolonDelimiter and caseSensitive: false', () => {
  // Fastify 5 reads these under routerOptions (top-level ones are deprecated); its typings lack useSemicolonDelimiter there.
  const normalising = { ignoreDuplicateSlashes: true, ignoreTrailingSlash: true, useSemicolonDelimiter: true, caseSensitive: false };
  const echo = useEchoService('fastify', { fastify: { routerOptions: normalising } });

  it('duplicate slashes the router would merge (/echo//1, //files/a) → 400 request_target_invalid', async () => {
    await echo.expectTargetRefused('/echo//1');
    await echo.expectTargetRefused('//files/a');
  });

  it('/ECHO/1 signed as sent is served; a signature for /echo/1 sent as /ECHO/1 → 401 signature_invalid', async () => {
    await echo.expectServed('/ECHO/1', { handler: 'echo', id: '1', query: {} });
    await echo.expectSignatureInvalid('/ECHO/1', '/echo/1');
  });

  it('/echo/1/ signed as sent is served; a signature for /echo/1 sent as /echo/1/ → 401 signature_invalid', async () => {
    await echo.expectServed('/echo/1/', { handler: 'echo', id: '1', query: {} });
    await echo.expectSignatureInvalid('/echo/1/', '/echo/1');
  });

  it('";" starts the query: /echo/1;role=admin signed as sent gives role=admin; a signature for /echo/1 does not carry over', async () => {
    await echo.expectServed('/echo/1;role=admin', { handler: 'echo', id: '1', query: { role: 'admin' } });
    await echo.expectSignatureInvalid('/echo/1;role=admin', '/echo/1');
  });

  it('a fragment is still refused', async () => {
    await echo.expectTargetRefused('/echo/1#;role=admin', '/echo/1');
  });
});
