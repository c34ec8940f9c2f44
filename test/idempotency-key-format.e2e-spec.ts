/**
 * inventory-service accepts an Idempotency-Key of 1 to 255 visible ASCII characters, and answers
 * anything else with 400 `idempotency_key_invalid` before the store sees it. A key is signed, but a
 * verified caller may still send any bytes: an unbounded key reached the database, whose index
 * refused it with a 500 (a row larger than a btree page), and characters outside visible ASCII are
 * read differently by HTTP stacks (Latin-1 here, UTF-8 there) so that a retry could name another
 * record. With the database store (PGlite), as in production, on both adapters.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import type { SigningCredential } from 'nest-service-auth/core';
import { startServices, type Adapter, type RunningServices } from './support/demo-services.js';
import { numberField, rawRequest, signedHeaders, signingCredential, type RawResponse } from './support/raw-http.js';
import { expectRefusal } from './support/refusals.js';

describe.each(['express', 'fastify'] as Adapter[])('Idempotency-Key format (%s, database store)', (adapter) => {
  let svc: RunningServices;
  let order: SigningCredential;

  beforeAll(async () => {
    svc = await startServices(adapter, { INVENTORY_STOCK_STORE: 'database', ENCRYPTION_POLICY: 'optional' });
    order = signingCredential(svc.orderKey);
  }, 60_000);
  afterAll(async () => {
    await svc?.close();
  });

  /** A signed order; `idempotencyKey` is written to the wire as Latin-1, byte for byte. */
  function postOrder(idempotencyKey: string): Promise<RawResponse> {
    const init = {
      method: 'POST',
      path: '/api/inventory',
      body: JSON.stringify({ productId: 'P123', quantity: 1 }),
      headers: { 'idempotency-key': idempotencyKey },
    };
    return rawRequest(svc.inventoryUrl, { ...init, headers: signedHeaders(svc.inventoryUrl, order, init) });
  }

  async function stock(): Promise<number> {
    const init = { method: 'GET', path: '/api/inventory/P123' };
    return numberField(await rawRequest(svc.inventoryUrl, { ...init, headers: signedHeaders(svc.inventoryUrl, order, init) }), 'stock');
  }

  it.each([
    ['7000 characters', randomBytes(5250).toString('base64url')],
    ['256 characters', 'k'.repeat(256)],
    ['a space inside', 'order 42'],
    ['a tab inside', 'order\t42'],
    ['a Latin-1 byte (é)', 'ordre-\u00e9'],
    ['UTF-8 bytes of é, sent as two Latin-1 characters', 'ordre-\u00c3\u00a9'],
  ])('%s → 400 idempotency_key_invalid, and the stock is unchanged', async (_name, key) => {
    const before = await stock();
    expectRefusal(await postOrder(key), 400, 'idempotency_key_invalid', [svc.orderKey.apiKey, svc.orderKey.secret]);
    expect(await stock()).toBe(before);
  });

  it('255 visible ASCII characters are a key: applied once, then replayed', async () => {
    const key = '!~' + 'a'.repeat(253);
    const first = await postOrder(key);
    expect(first.status).toBe(200);
    const again = await postOrder(key);
    expect([again.status, again.json]).toEqual([200, first.json]);
  });
});
