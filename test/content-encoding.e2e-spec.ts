/**
 * Content-Encoding on request bodies. The signature and the digest cover the bytes on the wire, so
 * a compressed body is refused with 415 `content_encoding_unsupported`, the same on both adapters:
 * the body parsers ServiceAuthModule.setup installs never inflate (nothing is decompressed for an
 * unauthenticated caller). Real gzip, deflate and brotli bodies.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import type { Adapter } from './support/demo-services.js';
import { startEchoService, type EchoService, type EchoServiceOptions } from './support/echo-service.js';
import { jsonField, rawRequest, signatureValue, signedHeadersForTarget, type RawResponse } from './support/raw-http.js';
import { expectRefusal } from './support/refusals.js';

const JSON_BODY = '{"productId":"P123","quantity":2}';
/** JSON_BODY as the service parses it. */
const JSON_VALUE: unknown = JSON.parse(JSON_BODY);
const GZIPPED = gzipSync(JSON_BODY);

const SETUPS: Array<{ name: string; adapter: Adapter; options: EchoServiceOptions }> = [
  { name: "express, ServiceAuthModule.setup's body parsers (inflate: false)", adapter: 'express', options: {} },
  { name: 'fastify', adapter: 'fastify', options: {} },
];

describe.each(SETUPS)('Content-Encoding on request bodies ($name)', ({ adapter, options }) => {
  let svc: EchoService;
  beforeAll(async () => {
    svc = await startEchoService(adapter, options);
  });
  afterAll(async () => {
    await svc?.close();
  });

  interface Post {
    path?: string;
    /** The bytes sent. */
    body: Buffer | string;
    encoding?: string;
    contentType?: string;
    /** Sign these bytes instead of the ones sent (the inflated body, as an inflating server would check). */
    signedBody?: Buffer | string;
    /** Send without any credentials. */
    unsigned?: boolean;
  }

  async function post(init: Post): Promise<RawResponse> {
    const path = init.path ?? '/echo';
    const encoding: Record<string, string> = init.encoding === undefined ? {} : { 'content-encoding': init.encoding };
    const contentType = init.contentType ?? 'application/json';
    let headers: Record<string, string>;
    if (init.unsigned) {
      headers = { 'content-type': contentType, ...encoding };
    } else {
      headers = signedHeadersForTarget(svc.caller, {
        method: 'POST',
        target: path,
        body: init.signedBody ?? init.body,
        contentType,
        headers: encoding,
      });
      svc.secrets.push(signatureValue(headers));
    }
    return rawRequest(svc.url, { method: 'POST', path, headers, body: init.body });
  }

  async function expectUnsupported(init: Post): Promise<void> {
    const before = svc.calls.count;
    expectRefusal(await post(init), 415, 'content_encoding_unsupported', svc.secrets);
    expect(svc.calls.count).toBe(before);
  }

  it('control: a plain signed JSON body is served', async () => {
    const res = await post({ body: JSON_BODY });
    expect({ status: res.status, body: jsonField(res, 'body') }).toEqual({ status: 201, body: JSON_VALUE });
  });

  it('a real gzip body signed over the bytes sent → 415 content_encoding_unsupported', async () => {
    await expectUnsupported({ body: GZIPPED, encoding: 'gzip' });
  });

  it('a real gzip body signed over the inflated bytes → 415 content_encoding_unsupported (never checked against inflated bytes)', async () => {
    await expectUnsupported({ body: GZIPPED, encoding: 'gzip', signedBody: JSON_BODY });
  });

  it.each(['GZIP', 'Gzip', 'x-gzip', 'gzip, identity', 'identity, gzip', 'identity, identity'])(
    'Content-Encoding: %s → 415',
    async (encoding) => {
      await expectUnsupported({ body: GZIPPED, encoding });
    },
  );

  it('real deflate and brotli bodies → 415', async () => {
    await expectUnsupported({ body: deflateSync(JSON_BODY), encoding: 'deflate' });
    await expectUnsupported({ body: brotliCompressSync(JSON_BODY), encoding: 'br' });
  });

  it('bytes that are not gzip at all, labelled gzip → 415', async () => {
    await expectUnsupported({ body: Buffer.from('definitely not gzip'), encoding: 'gzip' });
  });

  it('a gzip body without any credentials → 415 as well (checked before credentials, nothing inflated on the way)', async () => {
    await expectUnsupported({ body: GZIPPED, encoding: 'gzip', unsigned: true });
  });

  it('gzip text/plain and application/jose bodies (read raw, no JSON parser involved) → 415', async () => {
    await expectUnsupported({ body: gzipSync('hello'), encoding: 'gzip', contentType: 'text/plain' });
    await expectUnsupported({ body: gzipSync('a.b.c.d.e'), encoding: 'gzip', contentType: 'application/jose' });
  });

  it('Content-Encoding: gzip on a body-less signed GET → 415', async () => {
    const headers = signedHeadersForTarget(svc.caller, { method: 'GET', target: '/echo/1', headers: { 'content-encoding': 'gzip' } });
    svc.secrets.push(signatureValue(headers));
    expectRefusal(await rawRequest(svc.url, { method: 'GET', path: '/echo/1', headers }), 415, 'content_encoding_unsupported', svc.secrets);
  });

  it.each(['identity', 'IDENTITY', ' identity '])(
    'Content-Encoding: %j (no coding), covered by the signature → served',
    async (encoding) => {
      const res = await post({ body: JSON_BODY, encoding });
      expect({ status: res.status, body: jsonField(res, 'body') }).toEqual({ status: 201, body: JSON_VALUE });
    },
  );

  it('a public route: the body parser refuses a gzip JSON body → 415 content_encoding_unsupported', async () => {
    const res = await post({ path: '/public', body: GZIPPED, encoding: 'gzip', unsigned: true });
    expectRefusal(res, 415, 'content_encoding_unsupported', svc.secrets);
  });
});
