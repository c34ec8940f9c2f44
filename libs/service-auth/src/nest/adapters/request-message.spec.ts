import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { KeyRing } from '../../keys/key-ring.js';
import { MemoryNonceStore } from '../../replay/memory-nonce-store.js';
import { RequestVerifier } from '../../protocol/request-verifier.js';
import { ServiceAuthError } from '../../errors/service-auth.error.js';
import { requestMessage } from './request-message.js';
import type { ServiceAuthRequest } from './service-auth-request.js';

const PROTOTYPE_NAMES = [...new Set(Object.getOwnPropertyNames(Object.prototype).flatMap((name) => [name, name.toLowerCase()]))];

/** A fake request with the members requestMessage reads; the rest of an IncomingMessage is not needed here. */
const asRequest = (fake: object) => fake as ServiceAuthRequest;

/** Node's IncomingMessage keeps headers in a plain object, which inherits from Object.prototype. */
const nodeLike = (headers: Record<string, string>, url = '/items') => ({ method: 'GET', url, headers: { ...headers }, socket: {} });
const nodeLikeRequest = (headers: Record<string, string>, url?: string) => asRequest(nodeLike(headers, url));

describe('requestMessage: header lookup', () => {
  it.each(PROTOTYPE_NAMES)('%s is absent unless it was sent (own properties only)', (name) => {
    expect(requestMessage(nodeLikeRequest({ host: 'inventory.internal' })).header(name)).toBeUndefined();
  });

  it('a header that was sent under such a name is read', () => {
    expect(requestMessage(nodeLikeRequest({ constructor: 'sent' })).header('constructor')).toBe('sent');
  });

  it('repeated fields arrive as an array and are joined with ", "', () => {
    const req = asRequest({ method: 'GET', url: '/', headers: { 'x-list': ['a', 'b'] }, socket: {} });
    expect(requestMessage(req).header('x-list')).toBe('a, b');
  });

  it('a covered component named like an Object.prototype member, header absent, is a refusal, not a TypeError', async () => {
    const apiKey = `sk_${randomBytes(32).toString('base64url')}`;
    const ring = KeyRing.from({
      callers: [{ id: 'order-service', keys: [{ id: 'k1', apiKey, secret: randomBytes(32).toString('base64url') }] }],
    });
    const verifier = new RequestVerifier(() => ring, new MemoryNonceStore(), { audience: 'self' });
    for (const name of ['constructor', '__proto__', 'tostring']) {
      const params = `created=${Math.floor(Date.now() / 1000)};nonce="${randomBytes(16).toString('base64url')}";keyid="k1";alg="hmac-sha256";tag="self"`;
      const req = nodeLikeRequest({
        'x-api-key': apiKey,
        'signature-input': `sig1=("@method" "@path" "@query" "x-api-key" "${name}");${params}`,
        signature: `sig1=:${randomBytes(32).toString('base64')}:`,
      });
      const refusal = await verifier.verify(requestMessage(req), new Uint8Array(0)).catch((err: unknown) => err);
      expect(refusal).toBeInstanceOf(ServiceAuthError);
      expect((refusal as ServiceAuthError).reason).toBe('signature_invalid');
    }
  });
});

describe('requestMessage: target', () => {
  it('is the URL as it arrived (originalUrl) when the router was handed another one', () => {
    expect(requestMessage(asRequest({ ...nodeLike({}, '/echo/1'), originalUrl: '/api/echo/1' })).target).toBe('/api/echo/1');
  });

  it("is the Node URL on a request that has no originalUrl, read through Fastify's `.raw`", () => {
    expect(requestMessage(asRequest({ raw: nodeLike({}, '/echo/1?a=1') })).target).toBe('/echo/1?a=1');
  });
});
