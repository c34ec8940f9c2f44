import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { ServiceAuthKeys } from 'nest-service-auth';
import { SignedHttpService } from 'nest-service-auth/client';
import { deriveKeys, encryptCompact, EnvKeyProvider, KeyConfigurationError } from 'nest-service-auth/core';
import { createInventoryApp } from '../apps/inventory-service/src/inventory-app.js';
import { createOrderApp } from '../apps/order-service/src/order-app.js';
import { inventoryUpstreamEnv, keyList, newCredential } from './support/credentials.js';
import { listenUrl } from './support/demo-services.js';
import { rawRequest, reasonOf, signedHeaders, signingCredential } from './support/raw-http.js';

/**
 * The documented rotation procedure, with signed and encrypted orders flowing the whole time:
 * 1. the inventory adds order-service's new key next to the old one; 2. order-service switches to
 * the new key; 3. the inventory retires the old key. Keys are reloaded in place, no restart.
 */
describe.each(['express', 'fastify'] as const)('key rotation without downtime (%s)', (adapter) => {
  const oldKey = newCredential('order-2026-10');
  const newKey = newCredential('order-2026-11');
  // Each service's key source; reload() reads it again.
  const inventoryKeys: Record<string, string> = {
    SERVICE_AUTH_CALLERS: 'order-service',
    SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS: keyList(oldKey),
  };
  const orderKeys: Record<string, string> = {};
  let inventory: INestApplication;
  let order: INestApplication;
  let inventoryUrl: string;
  let orderUrl: string;

  beforeAll(async () => {
    inventory = await createInventoryApp({
      adapter,
      logger: false,
      env: { INVENTORY_STOCK_STORE: 'memory', ENCRYPTION_POLICY: 'required' },
      keyProvider: new EnvKeyProvider({ get: (name) => inventoryKeys[name] }),
    });
    inventoryUrl = await listenUrl(inventory);
    Object.assign(orderKeys, inventoryUpstreamEnv(inventoryUrl, oldKey));
    order = await createOrderApp({
      adapter,
      logger: false,
      env: {},
      keyProvider: new EnvKeyProvider({ get: (name) => orderKeys[name] }),
    });
    orderUrl = await listenUrl(order);
  });

  afterAll(async () => {
    await order?.close();
    await inventory?.close();
  });

  it('keeps every order succeeding through all three steps, then refuses the retired key', async () => {
    const outcomes: number[] = [];
    let running = true;
    // Two clients placing orders continuously (quantity 1 of P123, which starts at 100).
    const traffic = [0, 1].map(async () => {
      while (running && outcomes.length < 90) {
        const res = await fetch(`${orderUrl}/api/orders`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"productId":"P123","quantity":1}',
        });
        outcomes.push(res.status);
        await res.text();
      }
    });
    const ordersAfter = async (n: number) => {
      const target = outcomes.length + n;
      while (outcomes.length < target && outcomes.length < 90) await new Promise((r) => setTimeout(r, 5));
    };

    await ordersAfter(5);
    inventoryKeys.SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS = keyList(oldKey, newKey); // step 1
    await inventory.get(ServiceAuthKeys).reload();
    await ordersAfter(5);
    Object.assign(orderKeys, inventoryUpstreamEnv(inventoryUrl, newKey, oldKey)); // step 2: new key first = current
    // order-service only calls: its keys are its signing client's.
    await order.get(SignedHttpService).keys.reload();
    expect(order.get(SignedHttpService).keys.ring.upstream('inventory-service')?.keys[0].id).toBe(newKey.id);
    await ordersAfter(5);
    inventoryKeys.SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS = keyList(newKey); // step 3
    await inventory.get(ServiceAuthKeys).reload();
    await ordersAfter(5);
    running = false;
    await Promise.all(traffic);

    expect(outcomes.length).toBeGreaterThanOrEqual(20);
    expect(outcomes.filter((status) => status !== 200)).toEqual([]);

    // The retired credential is refused: with its own API key, and as a key id next to the current API key.
    const body = Buffer.from(
      encryptCompact(Buffer.from('{"productId":"P123","quantity":1}'), deriveKeys(Buffer.from(oldKey.secret, 'base64url')).encryptionKey, {
        kid: oldKey.id,
      }),
      'latin1',
    );
    const init = { method: 'POST', path: '/api/inventory', body, contentType: 'application/jose' };
    const whole = await rawRequest(inventoryUrl, { ...init, headers: signedHeaders(inventoryUrl, signingCredential(oldKey), init) });
    expect([whole.status, reasonOf(whole)]).toEqual([401, 'api_key_invalid']);
    const retiredKeyId = signedHeaders(inventoryUrl, signingCredential(oldKey, { apiKey: newKey.apiKey }), init);
    const mixed = await rawRequest(inventoryUrl, { ...init, headers: retiredKeyId });
    expect([mixed.status, reasonOf(mixed)]).toEqual([401, 'key_unknown']);
  });

  it('refuses a bad reload and keeps the running keys', async () => {
    const before = inventoryKeys.SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS;
    inventoryKeys.SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS = `${newKey.id}:${newKey.apiKey}:c2hvcnQ`; // secret of 5 bytes
    await expect(inventory.get(ServiceAuthKeys).reload()).rejects.toThrow(KeyConfigurationError);
    await expect(inventory.get(ServiceAuthKeys).reload()).rejects.toThrow(/SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS.*at least 32/);
    // The source still holds the bad entry; the running keys are untouched and keep working.
    const res = await fetch(`${orderUrl}/api/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"productId":"P456","quantity":1}',
    });
    expect(res.status).toBe(200);
    inventoryKeys.SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS = before;
  });
});
