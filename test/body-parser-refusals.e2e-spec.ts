/**
 * Body parsers run before any guard: what they refuse must still be a 4xx with a stable reason (the
 * refusal shape of every other refusal), signed or not, and never a 5xx. Express' body-parser and
 * Fastify's content-type parsers refuse different things; each known refusal is mapped, and any
 * other 4xx from a parser gets a reason from its status.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Adapter } from './support/demo-services.js';
import { startEchoService, type EchoService } from './support/echo-service.js';
import { rawRequest, reasonOf, signedHeadersForTarget, type RawResponse } from './support/raw-http.js';
import { expectRefusal } from './support/refusals.js';

const manyParameters = Array.from({ length: 1200 }, (_, i) => `p${i}=1`).join('&');
const deepParameter = `a${'[b]'.repeat(40)}=1`;

/** [name, Content-Type ('' for none), body] */
const CASES: [string, string, Buffer | string][] = [
  ['urlencoded, 1200 parameters', 'application/x-www-form-urlencoded', manyParameters],
  ['urlencoded, nested 40 deep', 'application/x-www-form-urlencoded', deepParameter],
  ['urlencoded, nested 8 deep', 'application/x-www-form-urlencoded', 'a[b][c][d][e][f][g][h][i]=1'],
  ['urlencoded, __proto__ keys', 'application/x-www-form-urlencoded', '__proto__[x]=1&a[__proto__][y]=2'],
  ['urlencoded, charset koi8-r', 'application/x-www-form-urlencoded; charset=koi8-r', 'a=1'],
  ['json, charset latin1', 'application/json; charset=latin1', '{"a":1}'],
  ['json, charset utf-16le', 'application/json; charset=utf-16le', Buffer.from('{"a":1}', 'utf16le')],
  ['json, charset utf-7', 'application/json; charset=utf-7', '{"a":1}'],
  ['json, __proto__', 'application/json', '{"__proto__":{"polluted":1}}'],
  ['json, constructor.prototype', 'application/json', '{"constructor":{"prototype":{"polluted":1}}}'],
  ['json, BOM', 'application/json', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}')])],
  ['json, not JSON', 'application/json', '{"a":'],
  ['json, media type with an empty parameter', 'application/json;;', '{"a":1}'],
  ['json, parameter without a value', 'application/json; charset', '{"a":1}'],
  ['json, unterminated quoted parameter', 'application/json; charset="utf-8', '{"a":1}'],
  ['text/plain', 'text/plain', 'hello'],
  ['application/jose, not a JWE', 'application/jose', 'not-a-jwe'],
  ['multipart', 'multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--\r\n'],
  ['application/octet-stream', 'application/octet-stream', 'abc'],
  ['application/vnd.api+json', 'application/vnd.api+json', '{"a":1}'],
  ['no Content-Type', '', '{"a":1}'],
];

describe.each(['express', 'fastify'] as Adapter[])('body-parser refusals carry a reason (%s)', (adapter) => {
  let svc: EchoService;
  beforeAll(async () => {
    svc = await startEchoService(adapter);
  });
  afterAll(async () => svc?.close());

  async function post(contentType: string, body: Buffer | string, signed: boolean): Promise<RawResponse> {
    const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
    const headers = signed
      ? signedHeadersForTarget(svc.caller, { method: 'POST', target: '/echo', body: bytes, contentType: contentType || 'x/none' })
      : contentType
        ? { 'content-type': contentType }
        : {};
    if (!contentType) delete headers['content-type'];
    return rawRequest(svc.url, { method: 'POST', path: '/echo', headers, body: bytes });
  }

  /** Served, or refused with the refusal shape and a reason: never a 5xx, never a refusal without a reason. */
  function expectServedOrRefused(res: RawResponse): void {
    expect(res.status).toBeLessThan(500);
    if (res.status < 400) return;
    const reason = reasonOf(res);
    if (reason === undefined) throw new Error(`a ${res.status} refusal without a reason: ${res.text}`);
    expectRefusal(res, res.status, reason, svc.secrets);
  }

  it.each(CASES)('%s: signed and unsigned, a 2xx or a 4xx with a reason', async (_name, contentType, body) => {
    expectServedOrRefused(await post(contentType, body, true));
    expectServedOrRefused(await post(contentType, body, false));
  });

  /** Types no parser of the library reads: the same refusal on both adapters (PROTOCOL.md §4), before the guard. */
  it.each([
    ['application/xml', '<order><productId>P1</productId></order>'],
    ['application/octet-stream', 'abc'],
    ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--\r\n'],
    ['application/vnd.api+json', '{"a":1}'],
    ['', '{"a":1}'],
  ])('a signed body of type %j → 415 media_type_unsupported', async (contentType, body) => {
    expectRefusal(await post(contentType, body, true), 415, 'media_type_unsupported', svc.secrets);
  });

  if (adapter === 'express') {
    /**
     * A stranger's request (no API key) to a route that needs a caller is refused for its key before
     * its body is read (see strangers-refused-before-body.ts): its body never reaches a parser.
     */
    async function expectStrangerRefusedBeforeParsing(contentType: string, body: string): Promise<void> {
      expectRefusal(await post(contentType, body, false), 401, 'api_key_missing', svc.secrets);
    }

    it('more parameters than the parser allows (1000) → 413 body_too_large when signed; a stranger is refused before parsing', async () => {
      expectRefusal(await post('application/x-www-form-urlencoded', manyParameters, true), 413, 'body_too_large', svc.secrets);
      await expectStrangerRefusedBeforeParsing('application/x-www-form-urlencoded', manyParameters);
    });

    it('parameters nested deeper than the parser allows (32) → 400 body_malformed when signed; a stranger is refused before parsing', async () => {
      expectRefusal(await post('application/x-www-form-urlencoded', deepParameter, true), 400, 'body_malformed', svc.secrets);
      await expectStrangerRefusedBeforeParsing('application/x-www-form-urlencoded', deepParameter);
    });

    it('a charset the parser does not decode → 400 body_malformed when signed; a stranger is refused before parsing', async () => {
      expectRefusal(await post('application/json; charset=latin1', '{"a":1}', true), 400, 'body_malformed', svc.secrets);
      expectRefusal(await post('application/x-www-form-urlencoded; charset=koi8-r', 'a=1', true), 400, 'body_malformed', svc.secrets);
      await expectStrangerRefusedBeforeParsing('application/json; charset=latin1', '{"a":1}');
      await expectStrangerRefusedBeforeParsing('application/x-www-form-urlencoded; charset=koi8-r', 'a=1');
    });
  }
});
