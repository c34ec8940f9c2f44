import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { createInventoryApp } from '../apps/inventory-service/src/inventory-app.js';
import { createOrderApp } from '../apps/order-service/src/order-app.js';
import { startAnswerRewritingProxy, type AnswerRewritingProxy } from './support/answer-rewriting-proxy.js';
import { pairKeys, type CredentialAlgorithm } from './support/credentials.js';
import { listenUrl, portOf, type Adapter } from './support/demo-services.js';

/**
 * order-service calls inventory-service through a proxy that can change the answer in transit. Every
 * answer is signed by inventory-service and bound to its request; order-service's SignedHttpService
 * refuses an answer rewritten, replayed from an earlier request, or stripped of its signature (502).
 * Both adapters, and both kinds of credential: hmac-sha256 (the pair's answer key) and ed25519
 * (inventory-service's own answer key, whose public half order-service holds).
 */
type Algorithm = CredentialAlgorithm;

const pairEnvironment = (algorithm: Algorithm, url: string) => pairKeys(algorithm, url);

describe.each<[Adapter, Algorithm]>([
  ['express', 'hmac-sha256'],
  ['fastify', 'hmac-sha256'],
  ['express', 'ed25519'],
  ['fastify', 'ed25519'],
])('signed answers (%s, %s)', (adapter, algorithm) => {
  let inventory: INestApplication;
  let order: INestApplication;
  let proxy: AnswerRewritingProxy;
  let orderUrl: string;

  beforeAll(async () => {
    const placeholder = pairEnvironment(algorithm, 'http://127.0.0.1:1');
    inventory = await createInventoryApp({
      adapter,
      logger: false,
      env: { ...placeholder.inventory, INVENTORY_STOCK_STORE: 'memory', ENCRYPTION_POLICY: 'optional' },
    });
    await listenUrl(inventory);
    proxy = await startAnswerRewritingProxy(portOf(inventory));
    // Plaintext answers: what only TLS protected before answers were signed.
    const orderEnv = { ...placeholder.order, SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_URL: proxy.url, INVENTORY_ENCRYPTION: 'off' };
    order = await createOrderApp({ adapter, logger: false, env: orderEnv });
    orderUrl = await listenUrl(order);
  });

  afterAll(async () => {
    await order?.close();
    await proxy?.close();
    await inventory?.close();
  });

  beforeEach(() => {
    proxy.fault = 'pass';
  });

  const placeOrder = (quantity = 1) =>
    fetch(`${orderUrl}/api/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ productId: 'P123', quantity }),
    });

  it('an answer signed by the callee and bound to the request is accepted', async () => {
    const res = await placeOrder();
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/^Inventory updated for product P123\. New stock: \d+$/);
  });

  it('an answer rewritten in transit is refused: 502 answer_signature_invalid', async () => {
    proxy.fault = 'rewrite';
    proxy.rewrite = { from: '"newStock":', to: '"newStock":1' };
    const res = await placeOrder();
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ reason: 'answer_signature_invalid' });
  });

  it('a genuine answer to an earlier request, replayed, is refused: 502 answer_signature_invalid', async () => {
    proxy.fault = 'replay-first';
    const res = await placeOrder();
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ reason: 'answer_signature_invalid' });
  });

  it('an answer stripped of its signature is refused: 502 answer_unsigned', async () => {
    proxy.fault = 'strip-signature';
    const res = await placeOrder();
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ reason: 'answer_unsigned' });
  });
});
