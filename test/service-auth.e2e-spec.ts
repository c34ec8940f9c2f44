/**
 * End to end, over real HTTP, on both adapters: order-service (public edge) → inventory-service
 * (signed, @TrustedCaller('order-service')), plus every attack the guard must refuse, each with its
 * HTTP status AND its stable `reason`, and bodies that never leak a secret or a stack trace.
 *
 * The services start ONCE per adapter. Cases run in order:
 * the stock assertions rely on it (P123 starts at 100, P456 at 50, P789 at 0).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHmac, randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { deriveKeys, httpMessage, openResponse, type HmacSigningCredential } from 'nest-service-auth/core';
// Internals, to hand-craft signatures the public signer would never produce.
import { buildSignatureBase } from '../libs/service-auth/src/protocol/signature-base.js';
import { serializeSignatureParams } from '../libs/service-auth/src/protocol/signature-fields.js';
import { createInventoryApp } from '../apps/inventory-service/src/inventory-app.js';
import { createOrderApp } from '../apps/order-service/src/order-app.js';
import { inventoryUpstreamEnv, keyList, newCredential, upstreamEnv, type TestCredential } from './support/credentials.js';
import { listenUrl, startServices, type Adapter, type RunningServices } from './support/demo-services.js';
import {
  jsonField,
  jsonObject,
  numberField,
  rawRequest,
  reasonOf,
  signatureValue,
  signedHeaders,
  signingCredential,
  type RawRequest,
  type RawResponse,
  type SignedInit,
} from './support/raw-http.js';
import { findFreePort } from './support/server-process.js';

const ADAPTERS: Adapter[] = ['express', 'fastify'];

/** `{ statusCode, error, reason, message }`: every refusal of the library, and validation failures. */
const REFUSAL_KEYS = ['error', 'message', 'reason', 'statusCode'];
/** inventory's business refusals of an order (unknown product, insufficient stock). */
const ORDER_REFUSAL_KEYS = ['message', 'productId', 'reason', 'statusCode'];
/** order-service's 502 when the inventory refused its credentials: with the inventory's reason code. */
const UPSTREAM_REFUSAL_KEYS = ['error', 'message', 'reason', 'statusCode', 'upstreamReason'];
/** GET /api/inventory/:productId of an unknown product. */
const LOOKUP_REFUSAL_KEYS = ['message', 'reason', 'statusCode'];

/** Which reason a signed, syntactically broken JSON body gets (the body parser runs before the guard). */
const GARBAGE_JSON_REASON: Record<Adapter, string> = { express: 'body_malformed', fastify: 'body_malformed' };

const json = (value: unknown) => JSON.stringify(value);
const nowSeconds = () => Math.floor(Date.now() / 1000);

describe.each(ADAPTERS)('nest-service-auth end to end (%s)', (adapter) => {
  let svc: RunningServices;
  let order: HmacSigningCredential;
  let audit: HmacSigningCredential;
  /** Everything that must never appear in a response: keys, secrets and every signature we sent. */
  const secrets: string[] = [];
  const extraCredentials: TestCredential[] = [];

  beforeAll(async () => {
    // The hand-signed matrix below sends plaintext JSON; inventory's default policy ('required')
    // would refuse every such body with 415 encryption_required before validation or business rules.
    svc = await startServices(adapter, { ENCRYPTION_POLICY: 'optional' });
    order = signingCredential(svc.orderKey);
    audit = signingCredential(svc.auditKey);
    for (const c of [svc.orderKey, svc.auditKey]) secrets.push(c.apiKey, c.secret);
    for (const c of [order, audit]) secrets.push(Buffer.from(c.hmacKey).toString('base64'), Buffer.from(c.hmacKey).toString('base64url'));
  }, 60_000);

  afterAll(async () => {
    await svc?.close();
  });

  /** Signs `init` (recording the signature as a secret) and returns the headers. */
  function sign(
    credential: HmacSigningCredential,
    init: SignedInit,
    options?: Parameters<typeof signedHeaders>[3],
  ): Record<string, string> {
    const headers = signedHeaders(svc.inventoryUrl, credential, init, options);
    secrets.push(signatureValue(headers));
    return headers;
  }

  const inventory = (init: RawRequest) => rawRequest(svc.inventoryUrl, init);

  /** Signs and sends the same request. */
  function signedInventory(credential: HmacSigningCredential, init: SignedInit, options?: Parameters<typeof signedHeaders>[3]) {
    return inventory({ method: init.method, path: init.path, body: init.body, headers: sign(credential, init, options) });
  }

  function expectNoLeak(res: RawResponse): void {
    const everything = res.text + '\n' + JSON.stringify(res.headers);
    for (const s of [...secrets, ...extraCredentials.flatMap((c) => [c.apiKey, c.secret])]) {
      expect(everything).not.toContain(s);
    }
    expect(res.text).not.toMatch(/(^|\n|\\n)\s*at\s/); // stack frames
    expect(res.text).not.toMatch(/[\w-]+\.(?:ts|js|mjs|cjs)\b/); // source files
    expect(res.text).not.toMatch(/node_modules|\/work\/|file:\/\//);
    expect(res.text).not.toMatch(/stack/i);
  }

  /** Status, reason, the exact set of keys, statusCode consistency, and no leak. */
  function expectRefusal(res: RawResponse, status: number, reason: string, keys: string[] = REFUSAL_KEYS): void {
    expect({ status: res.status, reason: reasonOf(res) }).toEqual({ status, reason });
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(Object.keys(jsonObject(res)).sort()).toEqual([...keys].sort());
    expect(jsonField(res, 'statusCode')).toBe(status);
    expect(jsonField(res, 'message')).toBeTruthy();
    if (keys.includes('error')) expect(typeof jsonField(res, 'error')).toBe('string');
    expectNoLeak(res);
  }

  async function stockOf(productId: string): Promise<number> {
    const res = await signedInventory(order, { method: 'GET', path: `/api/inventory/${productId}` });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ productId, stock: expect.any(Number) });
    return numberField(res, 'stock');
  }

  const orderBody = (productId: string, quantity: unknown) => json({ productId, quantity });

  describe('happy path and public routes', () => {
    it('POST order-service /api/orders reserves stock in inventory-service (first order: 100 → 98)', async () => {
      const res = await rawRequest(svc.orderUrl, {
        method: 'POST',
        path: '/api/orders',
        headers: { 'content-type': 'application/json' },
        body: orderBody('P123', 2),
      });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(res.text).toBe('Inventory updated for product P123. New stock: 98');
      expect(await stockOf('P123')).toBe(98);
    });

    it('public GET /health needs no credentials', async () => {
      const res = await inventory({ method: 'GET', path: '/health' });
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ status: 'ok', info: { replay_store: { status: 'up' } } });
    });

    it('a valid hand-signed POST /api/inventory is accepted (P456: 50 → 49)', async () => {
      const res = await signedInventory(order, { method: 'POST', path: '/api/inventory', body: orderBody('P456', 1) });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.json).toEqual({ message: 'Inventory updated for product P456. New stock: 49', productId: 'P456', newStock: 49 });
    });

    it('a valid hand-signed GET with a query is accepted', async () => {
      const res = await signedInventory(order, { method: 'GET', path: '/api/inventory/P456?fields=stock&x=%C3%A9' });
      expect(res.status).toBe(200);
      expect(res.json).toEqual({ productId: 'P456', stock: 49 });
    });
  });

  describe('refusals by the guard', () => {
    const body = orderBody('P456', 1);
    const post: SignedInit = { method: 'POST', path: '/api/inventory', body };

    it('no API key → 401 api_key_missing', async () => {
      const headers = sign(order, post);
      delete headers['x-api-key'];
      expectRefusal(await inventory({ ...post, headers }), 401, 'api_key_missing');
      // no credentials at all
      expectRefusal(await inventory({ method: 'GET', path: '/api/inventory/P123' }), 401, 'api_key_missing');
    });

    it('wrong API key → 401 api_key_invalid', async () => {
      const wrong = `sk_${randomBytes(32).toString('base64url')}`;
      secrets.push(wrong);
      const headers = { ...sign(order, post), 'x-api-key': wrong };
      expectRefusal(await inventory({ ...post, headers }), 401, 'api_key_invalid');
      // a correctly signed request whose API key is someone else's altogether
      expectRefusal(await signedInventory({ ...order, apiKey: wrong }, post), 401, 'api_key_invalid');
    });

    it('API key without a signature → 401 signature_missing', async () => {
      const headers = sign(order, post);
      expectRefusal(
        await inventory({ ...post, headers: { 'x-api-key': order.apiKey, 'content-type': 'application/json' } }),
        401,
        'signature_missing',
      );
      const { signature: _signature, ...noSignature } = headers;
      expectRefusal(await inventory({ ...post, headers: noSignature }), 401, 'signature_missing');
      const { ['signature-input']: _input, ...noInput } = headers;
      expectRefusal(await inventory({ ...post, headers: noInput }), 401, 'signature_missing');
    });

    it('a nonce outside the base64url alphabet → 400 signature_malformed, even with a correct HMAC; the request is not applied', async () => {
      for (const nonce of ['3q2+7wAAAAAAAAAAAAAAAA', '3q2/7wAAAAAAAAAAAAAAAA', '3q2-7wAAAAAAAAAAAAAAAA==', '!'.repeat(22)]) {
        const res = await inventory({ ...post, headers: sign(order, post, { nonce }) });
        expectRefusal(res, 400, 'signature_malformed');
        expect(jsonField(res, 'message')).toMatch(/base64url/);
      }
      const every = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      expect(
        (
          await inventory({
            method: 'GET',
            path: '/api/inventory/P123',
            headers: sign(order, { method: 'GET', path: '/api/inventory/P123' }, { nonce: every }),
          })
        ).status,
      ).toBe(200);
    });

    it('a correct HMAC over too few components (only x-api-key) → 401 signature_incomplete', async () => {
      const path = '/api/inventory/P123';
      const params = serializeSignatureParams(['x-api-key'], {
        created: nowSeconds(),
        nonce: randomBytes(16).toString('base64url'),
        keyid: order.id,
        alg: 'hmac-sha256',
      });
      const base = buildSignatureBase(
        httpMessage({ method: 'GET', target: path, headers: { 'x-api-key': order.apiKey } }),
        ['x-api-key'],
        params,
      );
      const signature = createHmac('sha256', order.hmacKey).update(base).digest('base64');
      secrets.push(signature);
      const res = await inventory({
        method: 'GET',
        path,
        headers: { 'x-api-key': order.apiKey, 'signature-input': `sig1=${params}`, signature: `sig1=:${signature}:` },
      });
      expectRefusal(res, 401, 'signature_incomplete');
    });

    it('a POST whose signature leaves the body (content-digest) uncovered → 401 signature_incomplete', async () => {
      // Signed as a body-less request, then sent with a body: the digest is not bound.
      const headers = sign(order, { method: 'POST', path: '/api/inventory' });
      const res = await inventory({ ...post, headers: { ...headers, 'content-type': 'application/json' } });
      expectRefusal(res, 401, 'signature_incomplete');
    });

    it('body changed after signing, same length → 401 digest_mismatch', async () => {
      const headers = sign(order, post);
      const tampered = orderBody('P456', 9);
      expect(tampered.length).toBe(body.length);
      expectRefusal(await inventory({ ...post, body: tampered, headers }), 401, 'digest_mismatch');
    });

    it('body changed after signing, different length → 401 digest_mismatch', async () => {
      const headers = sign(order, post);
      const tampered = orderBody('P456', 40);
      expect(tampered.length).not.toBe(body.length);
      expectRefusal(await inventory({ ...post, body: tampered, headers }), 401, 'digest_mismatch');
    });

    it('path changed after signing (another existing route) → 401 signature_invalid', async () => {
      const headers = sign(order, { method: 'GET', path: '/api/inventory/P123' });
      expectRefusal(await inventory({ method: 'GET', path: '/api/inventory/P456', headers }), 401, 'signature_invalid');
    });

    it('path re-encoded after signing (%50123 routes to P123 but is not the signed target) → 401 signature_invalid', async () => {
      const headers = sign(order, { method: 'GET', path: '/api/inventory/P123' });
      expectRefusal(await inventory({ method: 'GET', path: '/api/inventory/%50123', headers }), 401, 'signature_invalid');
    });

    it(`path changed by a trailing slash (signed /api/inventory, sent /api/inventory/) → ${adapter === 'express' ? '401 signature_invalid' : '404 (no such route)'}`, async () => {
      const headers = sign(order, post);
      const res = await inventory({ ...post, path: '/api/inventory/', headers });
      if (adapter === 'express') {
        // Express routes are not strict about the trailing slash: the guard runs and sees another @path.
        expectRefusal(res, 401, 'signature_invalid');
      } else {
        // Fastify has no route for it: the guard never runs.
        expect(res.status).toBe(404);
        expectNoLeak(res);
      }
    });

    it('POST signed for /api/inventory, sent to /api/inventory/P123 (GET-only route) → 404, the guard never runs', async () => {
      // Recorded for completeness: a target with no route for the method is the router's business.
      const headers = sign(order, post);
      const res = await inventory({ ...post, path: '/api/inventory/P123', headers });
      expect(res.status).toBe(404);
      expectNoLeak(res);
    });

    it('query changed after signing (?a=1 → ?a=2) → 401 signature_invalid', async () => {
      const headers = sign(order, { method: 'GET', path: '/api/inventory/P123?a=1' });
      expectRefusal(await inventory({ method: 'GET', path: '/api/inventory/P123?a=2', headers }), 401, 'signature_invalid');
    });

    it('query added or removed after signing → 401 signature_invalid', async () => {
      const plain = sign(order, { method: 'GET', path: '/api/inventory/P123' });
      expectRefusal(await inventory({ method: 'GET', path: '/api/inventory/P123?a=1', headers: plain }), 401, 'signature_invalid');
      const withQuery = sign(order, { method: 'GET', path: '/api/inventory/P123?a=1' });
      expectRefusal(await inventory({ method: 'GET', path: '/api/inventory/P123', headers: withQuery }), 401, 'signature_invalid');
      const onPost = sign(order, { ...post, path: '/api/inventory?dryRun=1' });
      expectRefusal(await inventory({ ...post, headers: onPost }), 401, 'signature_invalid');
    });

    it('method changed after signing (signed PUT, sent POST) → 401 signature_invalid', async () => {
      const headers = sign(order, { ...post, method: 'PUT' });
      expectRefusal(await inventory({ ...post, headers }), 401, 'signature_invalid');
    });

    it('created too old (now - 301 s) → 401 request_expired', async () => {
      expectRefusal(await signedInventory(order, post, { created: nowSeconds() - 301 }), 401, 'request_expired');
    });

    it('expires in the past → 401 request_expired', async () => {
      expectRefusal(await signedInventory(order, post, { created: nowSeconds() - 10, expiresInSeconds: 5 }), 401, 'request_expired');
    });

    it('created in the future (now + 60 s) → 401 request_from_future', async () => {
      expectRefusal(await signedInventory(order, post, { created: nowSeconds() + 60 }), 401, 'request_from_future');
    });

    it('the same request twice → the first is applied (49 → 48), the second is 401 nonce_replayed', async () => {
      const headers = sign(order, post);
      const first = await inventory({ ...post, headers });
      expect(first.status).toBe(200);
      expect(first.json).toEqual({ message: 'Inventory updated for product P456. New stock: 48', productId: 'P456', newStock: 48 });
      expectRefusal(await inventory({ ...post, headers }), 401, 'nonce_replayed');
      expect(await stockOf('P456')).toBe(48);
    });

    it('unknown keyid (right API key and HMAC key, key id not configured) → 401 key_unknown', async () => {
      expectRefusal(await signedInventory({ ...order, id: 'order-2099-01' }, post), 401, 'key_unknown');
    });

    it("another caller's keyid (audit's key id with order's API key) → 401 key_unknown", async () => {
      expectRefusal(await signedInventory({ ...order, id: audit.id }, post), 401, 'key_unknown');
    });

    it('a valid signature made with the wrong HMAC key → 401 signature_invalid', async () => {
      expectRefusal(await signedInventory({ ...order, hmacKey: audit.hmacKey }, post), 401, 'signature_invalid');
    });

    it('a configured caller the route does not trust (audit-service) → 403 caller_not_trusted', async () => {
      expectRefusal(await signedInventory(audit, post), 403, 'caller_not_trusted');
      expectRefusal(await signedInventory(audit, { method: 'GET', path: '/api/inventory/P456' }), 403, 'caller_not_trusted');
    });

    it('malformed Signature-Input (`sig1=(@method`) → 400 signature_malformed', async () => {
      const res = await inventory({
        method: 'GET',
        path: '/api/inventory/P123',
        headers: { 'x-api-key': order.apiKey, 'signature-input': 'sig1=(@method', signature: 'sig1=:AAAA:' },
      });
      expectRefusal(res, 400, 'signature_malformed');
    });

    it('Signature without a value for the Signature-Input label → 400 signature_malformed', async () => {
      const headers = sign(order, post);
      expectRefusal(
        await inventory({ ...post, headers: { ...headers, signature: headers.signature.replace(/^sig1=/, 'other=') } }),
        400,
        'signature_malformed',
      );
    });

    it(`garbage JSON body, signed correctly → 400 ${GARBAGE_JSON_REASON[adapter]} (rejected by the body parser before the guard)`, async () => {
      const garbage = '{"productId": "P456", "quantity": ';
      const res = await signedInventory(order, { method: 'POST', path: '/api/inventory', body: garbage });
      expectRefusal(res, 400, GARBAGE_JSON_REASON[adapter]);
    });

    it('body over MAX_BODY_BYTES (100 KiB signed JSON, limit 64 KiB) → 413 body_too_large', async () => {
      const big = json({ productId: 'P456', quantity: 1, padding: 'x'.repeat(100 * 1024) });
      const res = await signedInventory(order, { method: 'POST', path: '/api/inventory', body: big });
      expectRefusal(res, 413, 'body_too_large');
    });

    it('none of the refused requests changed the stock', async () => {
      expect(await stockOf('P456')).toBe(48);
      expect(await stockOf('P123')).toBe(98);
    });
  });

  describe('refusals by the inventory itself (signed correctly)', () => {
    it.each([
      ['quantity 0', orderBody('P456', 0), 'quantity must be a positive integer'],
      ['quantity "2" (a string)', orderBody('P456', '2'), 'quantity must be a positive integer'],
      ['missing productId', json({ quantity: 1 }), 'productId must be 1-32 letters, digits or dashes'],
      ['an unexpected property', json({ productId: 'P456', quantity: 1, price: 3 }), 'property price should not exist'],
    ])('validation: %s → 400 validation_failed', async (_name, body, message) => {
      const res = await signedInventory(order, { method: 'POST', path: '/api/inventory', body });
      expectRefusal(res, 400, 'validation_failed');
      expect(jsonField(res, 'message')).toContain(message);
    });

    it('unknown product → 404 product_unknown (POST and GET)', async () => {
      const res = await signedInventory(order, { method: 'POST', path: '/api/inventory', body: orderBody('P999', 1) });
      expectRefusal(res, 404, 'product_unknown', ORDER_REFUSAL_KEYS);
      expect(res.json).toEqual({ statusCode: 404, reason: 'product_unknown', productId: 'P999', message: 'Unknown product P999' });
      const lookup = await signedInventory(order, { method: 'GET', path: '/api/inventory/P999' });
      expectRefusal(lookup, 404, 'product_unknown', LOOKUP_REFUSAL_KEYS);
    });

    it('quantity above stock → 409 insufficient_stock', async () => {
      const res = await signedInventory(order, { method: 'POST', path: '/api/inventory', body: orderBody('P456', 49) });
      expectRefusal(res, 409, 'insufficient_stock', ORDER_REFUSAL_KEYS);
      expect(jsonField(res, 'message')).toBe('Insufficient stock for product P456: requested 49, available 48');
      const none = await signedInventory(order, { method: 'POST', path: '/api/inventory', body: orderBody('P789', 1) });
      expectRefusal(none, 409, 'insufficient_stock', ORDER_REFUSAL_KEYS);
      expect(await stockOf('P456')).toBe(48);
      expect(await stockOf('P789')).toBe(0);
    });
  });

  describe('order-service in front of inventory-service', () => {
    const extraApps: INestApplication[] = [];

    afterAll(async () => {
      for (const app of extraApps) await app.close();
    });

    async function startOrderService(env: Record<string, string>): Promise<string> {
      const app = await createOrderApp({ adapter, logger: false, env });
      extraApps.push(app);
      return listenUrl(app);
    }

    const placeOrder = (baseUrl: string, body: string) =>
      rawRequest(baseUrl, { method: 'POST', path: '/api/orders', headers: { 'content-type': 'application/json' }, body });

    it('invalid order body → 400 validation_failed (never reaches inventory)', async () => {
      for (const body of [orderBody('P123', 0), orderBody('P123', '2'), json({ quantity: 1 })]) {
        expectRefusal(await placeOrder(svc.orderUrl, body), 400, 'validation_failed');
      }
      expect(await stockOf('P123')).toBe(98);
    });

    it("inventory's business refusal is passed through: unknown product P999 → 404 product_unknown", async () => {
      const res = await placeOrder(svc.orderUrl, orderBody('P999', 1));
      expectRefusal(res, 404, 'product_unknown', ORDER_REFUSAL_KEYS);
      expect(res.json).toEqual({ statusCode: 404, reason: 'product_unknown', productId: 'P999', message: 'Unknown product P999' });
    });

    it("inventory's insufficient stock is passed through → 409 insufficient_stock", async () => {
      const res = await placeOrder(svc.orderUrl, orderBody('P123', 99));
      expectRefusal(res, 409, 'insufficient_stock', ORDER_REFUSAL_KEYS);
      expect(await stockOf('P123')).toBe(98);
    });

    it('inventory unreachable (its upstream URL on a closed port) → 503 upstream_unavailable', async () => {
      const closedPort = await findFreePort();
      const url = await startOrderService(inventoryUpstreamEnv(`http://127.0.0.1:${closedPort}`, svc.orderKey));
      expectRefusal(await placeOrder(url, orderBody('P123', 1)), 503, 'upstream_unavailable');
    });

    it('order-service signing with a credential inventory does not know → 502 upstream_rejected_credentials', async () => {
      const rogue = newCredential('order-2026-11'); // same key id, different API key and secret
      extraCredentials.push(rogue);
      const url = await startOrderService(inventoryUpstreamEnv(svc.inventoryUrl, rogue));
      const res = await placeOrder(url, orderBody('P123', 1));
      expectRefusal(res, 502, 'upstream_rejected_credentials', UPSTREAM_REFUSAL_KEYS);
      // The inventory's own reason code, read from the UpstreamHttpError the signed client threw.
      expect(jsonField(res, 'upstreamReason')).toBe('api_key_invalid');
      expect(await stockOf('P123')).toBe(98);
    });

    it('order-service whose key inventory knows but whose caller is not trusted (audit) → 502 upstream_rejected_credentials', async () => {
      const url = await startOrderService(inventoryUpstreamEnv(svc.inventoryUrl, svc.auditKey));
      const res = await placeOrder(url, orderBody('P123', 1));
      expectRefusal(res, 502, 'upstream_rejected_credentials', UPSTREAM_REFUSAL_KEYS);
      expect(jsonField(res, 'upstreamReason')).toBe('caller_not_trusted');
      expect(await stockOf('P123')).toBe(98);
    });
  });
});

describe.each(ADAPTERS)("inventory's default encryption policy ('required') (%s)", (adapter) => {
  let svc: RunningServices;

  beforeAll(async () => {
    svc = await startServices(adapter);
  }, 60_000);

  afterAll(async () => {
    await svc?.close();
  });

  it('order-service → inventory-service works end to end (bodies and answers travel encrypted)', async () => {
    const res = await rawRequest(svc.orderUrl, {
      method: 'POST',
      path: '/api/orders',
      headers: { 'content-type': 'application/json' },
      body: json({ productId: 'P123', quantity: 2 }),
    });
    expect(res.status).toBe(200);
    expect(res.text).toBe('Inventory updated for product P123. New stock: 98');
  });

  it('a correctly signed plaintext body → 415 encryption_required, and nothing changes', async () => {
    const order = signingCredential(svc.orderKey);
    const init: SignedInit = { method: 'POST', path: '/api/inventory', body: json({ productId: 'P123', quantity: 1 }) };
    const headers = signedHeaders(svc.inventoryUrl, order, init);
    const res = await rawRequest(svc.inventoryUrl, { ...init, headers });
    expect({ status: res.status, reason: reasonOf(res) }).toEqual({ status: 415, reason: 'encryption_required' });
    expect(Object.keys(jsonObject(res)).sort()).toEqual(REFUSAL_KEYS);
    for (const secret of [svc.orderKey.apiKey, svc.orderKey.secret, signatureValue(headers)]) expect(res.text).not.toContain(secret);

    // A body-less GET has nothing to refuse, and its answer is sealed all the same: under 'required',
    // every successful answer to a verified caller is, whatever Accept says.
    const getHeaders = signedHeaders(svc.inventoryUrl, order, { method: 'GET', path: '/api/inventory/P123' });
    const get = await rawRequest(svc.inventoryUrl, { method: 'GET', path: '/api/inventory/P123', headers: getHeaders });
    expect(get.status).toBe(200);
    expect(get.headers['content-type']).toMatch(/^application\/jose/);
    const { encryptionKey } = deriveKeys(Buffer.from(svc.orderKey.secret, 'base64url'));
    const nonce = /nonce="([^"]+)"/.exec(getHeaders['signature-input'])![1];
    const opened = openResponse(get.text, (kid) => (kid === svc.orderKey.id ? encryptionKey : undefined), { nonce, status: 200 });
    expect(JSON.parse(opened.toString('utf8'))).toEqual({ productId: 'P123', stock: 98 });
  });
});

describe('start-up configuration errors', () => {
  /** Creates and initialises an app the way `listen` would; closes it if it started after all. */
  async function start(create: () => Promise<INestApplication>): Promise<void> {
    const app = await create();
    try {
      await app.init();
    } finally {
      await app.close();
    }
  }

  /**
   * Nest instantiates modules in parallel, so a key error does not stop the stock store from opening
   * in the background of the rejected `create`: keep it in memory (nothing to leak) instead of
   * starting a PGlite nobody will close.
   */
  const inventoryWith = (env: Record<string, string>) => () =>
    createInventoryApp({ logger: false, env: { INVENTORY_STOCK_STORE: 'memory', ...env } });

  const orderKey = newCredential('order-2026-11');
  const auditKey = newCredential('audit-2026-11');

  it('a secret shorter than 32 bytes is refused, naming SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS', async () => {
    const short = { ...orderKey, secret: randomBytes(16).toString('base64url') };
    await expect(
      start(inventoryWith({ SERVICE_AUTH_CALLERS: 'order-service', SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS: keyList(short) })),
    ).rejects.toThrow(/SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS.*16 bytes; at least 32/);
  });

  it('a short outgoing secret is refused too, naming SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_KEYS', async () => {
    const short = { ...orderKey, secret: randomBytes(31).toString('base64url') };
    await expect(start(() => createOrderApp({ logger: false, env: inventoryUpstreamEnv('http://127.0.0.1:1', short) }))).rejects.toThrow(
      /SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_KEYS.*31 bytes/,
    );
  });

  it('a key list with the API key and the secret swapped is refused at start-up, naming the entry, not the values', async () => {
    const swapped = `${orderKey.id}:${orderKey.secret}:${orderKey.apiKey}`;
    const refusal = await start(
      inventoryWith({ SERVICE_AUTH_CALLERS: 'order-service', SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS: swapped }),
    ).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    expect(refusal?.message).toMatch(/SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS, entry 1, part 2 \(API key\) looks like a secret/);
    expect(refusal?.message).not.toContain(orderKey.secret);
    expect(refusal?.message).not.toContain(orderKey.apiKey);
  });

  it('order-service refuses to start without the inventory-service upstream', async () => {
    await expect(
      start(() => createOrderApp({ logger: false, env: upstreamEnv('billing-service', 'http://127.0.0.1:1', orderKey) })),
    ).rejects.toThrow(/"inventory-service", which is not a configured upstream \(configured: billing-service\)/);
  });

  it('a caller listed without its keys variable is refused, naming the missing variable', async () => {
    await expect(
      start(
        inventoryWith({ SERVICE_AUTH_CALLERS: 'order-service,audit-service', SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS: keyList(orderKey) }),
      ),
    ).rejects.toThrow(/SERVICE_AUTH_CALLER_AUDIT_SERVICE_KEYS is not set, but SERVICE_AUTH_CALLERS names caller "audit-service"/);
  });

  it('no keys at all is refused (inventory-service and order-service, which only calls: it needs upstreams)', async () => {
    await expect(start(inventoryWith({}))).rejects.toThrow(/no keys.*SERVICE_AUTH_CALLERS.*SERVICE_AUTH_UPSTREAMS/);
    await expect(start(() => createOrderApp({ logger: false, env: {} }))).rejects.toThrow(
      /SignedHttpModule has no upstreams.*SERVICE_AUTH_UPSTREAMS/,
    );
  });

  it('a malformed key list entry is refused, naming the variable and the entry', async () => {
    await expect(
      start(
        inventoryWith({
          SERVICE_AUTH_CALLERS: 'order-service',
          SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS: `${orderKey.id}:${orderKey.apiKey}`,
        }),
      ),
    ).rejects.toThrow(/SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS: entry 1 must have the form keyId:apiKey:secret/);
  });

  it("@TrustedCaller('order-service') with only audit-service configured is refused at init, naming both", async () => {
    // Every provider is created (the check runs in onModuleInit), so this one needs a working store.
    const started = start(() =>
      createInventoryApp({
        logger: false,
        env: {
          INVENTORY_STOCK_STORE: 'memory',
          SERVICE_AUTH_CALLERS: 'audit-service',
          SERVICE_AUTH_CALLER_AUDIT_SERVICE_KEYS: keyList(auditKey),
        },
      }),
    );
    await expect(started).rejects.toThrow(/@TrustedCaller\('order-service'\) on InventoryController names a caller that is not configured/);
    await expect(started).rejects.toThrow(/Configured callers: audit-service/);
  });
});
