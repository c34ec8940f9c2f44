/**
 * Idempotency keys belong to the caller that sent them. inventory-service records the outcome of an
 * order under its Idempotency-Key; if the key alone named the record, a second caller sending the
 * same key (by accident, or having seen it) would get the first caller's answer back: its product,
 * quantity and stock (a leak), and never have its own order applied (a denial).
 *
 * inventory-service lets only order-service place orders; to have two callers that may, this file
 * re-declares the controller's trust as @TrustedCaller('order-service', 'audit-service') before the
 * app is built (Jest gives each test file its own copy of the class), and restores it afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { TrustedCaller } from 'nest-service-auth';
import type { SigningCredential } from 'nest-service-auth/core';
import { InventoryController } from '../apps/inventory-service/src/inventory/inventory.controller.js';
import { startServices, type Adapter, type RunningServices } from './support/demo-services.js';
import { jsonField, numberField, rawRequest, reasonOf, signedHeaders, signingCredential, type RawResponse } from './support/raw-http.js';

describe.each(['express', 'fastify'] as Adapter[])('Idempotency-Key scoped to the verified caller (%s)', (adapter) => {
  let svc: RunningServices;
  let order: SigningCredential;
  let audit: SigningCredential;

  beforeAll(async () => {
    TrustedCaller('order-service', 'audit-service')(InventoryController);
    svc = await startServices(adapter, { ENCRYPTION_POLICY: 'optional' });
    order = signingCredential(svc.orderKey);
    audit = signingCredential(svc.auditKey);
  }, 60_000);

  afterAll(async () => {
    await svc?.close();
    TrustedCaller('order-service')(InventoryController);
  });

  function postOrder(caller: SigningCredential, idempotencyKey: string, productId: string, quantity: number): Promise<RawResponse> {
    const init = {
      method: 'POST',
      path: '/api/inventory',
      body: JSON.stringify({ productId, quantity }),
      headers: { 'idempotency-key': idempotencyKey },
    };
    return rawRequest(svc.inventoryUrl, { ...init, headers: signedHeaders(svc.inventoryUrl, caller, init) });
  }

  async function stockOf(productId: string): Promise<number> {
    const init = { method: 'GET', path: `/api/inventory/${productId}` };
    const res = await rawRequest(svc.inventoryUrl, { ...init, headers: signedHeaders(svc.inventoryUrl, order, init) });
    expect(res.status).toBe(200);
    return numberField(res, 'stock');
  }

  it("a second caller using the first caller's key gets its own order applied, never the first caller's answer", async () => {
    const key = randomUUID();
    const first = await postOrder(order, key, 'P123', 2);
    expect([first.status, first.json]).toEqual([
      200,
      { message: 'Inventory updated for product P123. New stock: 98', productId: 'P123', newStock: 98 },
    ]);

    const other = await postOrder(audit, key, 'P123', 2);
    expect([other.status, other.json]).toEqual([
      200,
      { message: 'Inventory updated for product P123. New stock: 96', productId: 'P123', newStock: 96 },
    ]);
    expect(await stockOf('P123')).toBe(96);

    // Each caller's retry with the key replays its own recorded outcome, and moves nothing.
    expect(jsonField(await postOrder(order, key, 'P123', 2), 'newStock')).toBe(98);
    expect(jsonField(await postOrder(audit, key, 'P123', 2), 'newStock')).toBe(96);
    expect(await stockOf('P123')).toBe(96);
  });

  it('the same key for another payload from another caller is a new order, not a 422 that tells what the first caller ordered', async () => {
    const key = randomUUID();
    expect((await postOrder(order, key, 'P456', 5)).status).toBe(200);

    const other = await postOrder(audit, key, 'P456', 1);
    expect([other.status, other.json]).toEqual([
      200,
      { message: 'Inventory updated for product P456. New stock: 44', productId: 'P456', newStock: 44 },
    ]);
    expect(other.text).not.toContain('quantity 5');

    // Within one caller, reusing its own key for another payload is still refused.
    const reused = await postOrder(audit, key, 'P456', 2);
    expect([reused.status, reasonOf(reused)]).toEqual([422, 'idempotency_key_reused']);
  });
});
