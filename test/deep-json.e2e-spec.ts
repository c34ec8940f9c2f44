/**
 * A body nested thousands of levels deep is a bad input like any other: 400 with a reason, not a
 * stack overflow in validation answered 500. On inventory-service only a verified caller gets that
 * far; order-service's public edge takes it from anyone.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startServices, type Adapter, type RunningServices } from './support/demo-services.js';
import { rawRequest, reasonOf, signedHeaders, signingCredential } from './support/raw-http.js';

// The deepest still fits the services' 64 KiB body limit (a larger body is 413 body_too_large first).
const DEPTHS = [33, 5_000, 10_000];
const nestedArray = (depth: number) => `{"productId":${'['.repeat(depth)}${']'.repeat(depth)},"quantity":1}`;
const nestedObject = (depth: number) => `{"productId":"P123","quantity":1,"extra":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`;

describe.each<Adapter>(['express', 'fastify'])('deeply nested JSON (%s)', (adapter) => {
  let svc: RunningServices;
  beforeAll(async () => {
    svc = await startServices(adapter, { ENCRYPTION_POLICY: 'optional' });
  });
  afterAll(async () => {
    await svc?.close();
  });

  const signedPost = (body: string) => {
    const init = { method: 'POST', path: '/api/inventory', body };
    return rawRequest(svc.inventoryUrl, { ...init, headers: signedHeaders(svc.inventoryUrl, signingCredential(svc.orderKey), init) });
  };
  const publicPost = (body: string) =>
    rawRequest(svc.orderUrl, { method: 'POST', path: '/api/orders', headers: { 'content-type': 'application/json' }, body });

  for (const depth of DEPTHS) {
    for (const [shape, body] of [
      ['an array', nestedArray(depth)],
      ['an object', nestedObject(depth)],
    ] as const) {
      it(`inventory, verified caller: ${shape} ${depth} deep → 400 body_malformed`, async () => {
        const res = await signedPost(body);
        expect([res.status, reasonOf(res)]).toEqual([400, 'body_malformed']);
      });

      it(`order-service, anyone: ${shape} ${depth} deep → 400 body_malformed`, async () => {
        const res = await publicPost(body);
        expect([res.status, reasonOf(res)]).toEqual([400, 'body_malformed']);
      });
    }
  }

  it('ordinary orders still go through', async () => {
    expect((await signedPost('{"productId":"P123","quantity":1}')).status).toBe(200);
    expect((await publicPost('{"productId":"P123","quantity":1}')).status).toBe(200);
  });
});
