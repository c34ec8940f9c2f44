/**
 * `nest-service-auth/testing` as a user's own end-to-end suite uses it: a Nest application built with
 * @nestjs/testing (only `init()`ed, as in the Nest starter's e2e test) or the demo inventory-service
 * configured from the environment, on Express and on Fastify, called with real HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Body, Controller, Get, Post, type INestApplication } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { Caller, EncryptedBody, ServiceAuthModule, TrustedCaller, type VerifiedCaller } from 'nest-service-auth';
import { testCaller } from 'nest-service-auth/testing';
import { createInventoryApp } from '../apps/inventory-service/src/inventory-app.js';
import { listenUrl, type Adapter } from './support/demo-services.js';

@Controller('api/inventory')
@TrustedCaller('order-service')
class InventoryController {
  @Post()
  reserve(@Body() order: { productId: string; quantity: number }, @Caller() caller: VerifiedCaller) {
    return { reserved: order.productId, quantity: order.quantity, for: caller.id };
  }

  @Get('search')
  search(@Caller() caller: VerifiedCaller) {
    return { caller: caller.id };
  }
}

@Controller('api/secrets')
@TrustedCaller('order-service')
@EncryptedBody()
class SecretsController {
  @Post()
  store(@Body() body: { card: string }) {
    return { stored: body.card.slice(-4) };
  }
}

const newAdapter = (adapter: Adapter) => (adapter === 'fastify' ? new FastifyAdapter() : new ExpressAdapter());

describe.each<Adapter>(['express', 'fastify'])('nest-service-auth/testing (%s)', (adapter) => {
  // The callers a test suite declares: trusted, configured but not trusted, and one signing for another service.
  const caller = testCaller('order-service', { audience: 'inventory-service' });
  const audit = testCaller('audit-service', { audience: 'inventory-service' });
  const misdirected = testCaller('billing-service', { audience: 'billing-service' });
  let app: INestApplication;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ServiceAuthModule.forRoot({
          serviceId: 'inventory-service',
          keys: { callers: [caller.asCaller(), audit.asCaller(), misdirected.asCaller()] },
        }),
      ],
      controllers: [InventoryController, SecretsController],
    }).compile();
    app = moduleRef.createNestApplication(newAdapter(adapter), { rawBody: true, logger: false });
    ServiceAuthModule.setup(app);
    await app.init();
  });

  afterAll(async () => {
    await app?.close();
  });

  it('a @TrustedCaller route, tested in three lines', async () => {
    const res = await caller.fetch(app, 'POST', '/api/inventory', { productId: 'P123', quantity: 2 });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ reserved: 'P123', quantity: 2, for: 'order-service' });
  });

  it('the service refuses the callers it should: not trusted on the route, signed for another service, unknown', async () => {
    const notTrusted = await audit.fetch(app, 'GET', '/api/inventory/search?q=P1');
    expect(notTrusted).toMatchObject({ status: 403, body: { reason: 'caller_not_trusted' } });
    const otherAudience = await misdirected.fetch(app, 'GET', '/api/inventory/search?q=P1');
    expect(otherAudience).toMatchObject({ status: 401, body: { reason: 'audience_mismatch' } });
    const stranger = testCaller('order-service', { audience: 'inventory-service' });
    const unknown = await stranger.fetch(app, 'GET', '/api/inventory/search?q=P1');
    expect(unknown).toMatchObject({ status: 401, body: { reason: 'api_key_invalid' } });
  });

  it('encrypt: the body goes as a JWE, the answer comes back as one, opened and checked', async () => {
    const res = await caller.fetch(app, 'POST', '/api/secrets', { card: '4111111111111111' }, { encrypt: true });
    expect([res.status, res.encrypted, res.body]).toEqual([201, true, { stored: '1111' }]);
    expect(res.headers['content-type']).toMatch(/^application\/jose/);
    expect(res.text).not.toContain('1111');
    // Without encryption the route refuses the body, which the test can see too.
    const plain = await caller.fetch(app, 'POST', '/api/secrets', { card: '4111111111111111' });
    expect(plain).toMatchObject({ status: 415, body: { reason: 'encryption_required' } });
  });

  it('prepare(): exact headers and bytes for any client; the same request twice is a replay', async () => {
    const request = caller.prepare('POST', '/api/secrets', { card: '4111111111111111' }, { encrypt: true });
    expect(request.headers['content-type']).toBe('application/jose');
    expect(request.body?.toString('latin1')).toMatch(/^eyJ[\w-]+\.\.[\w-]+\.[\w-]+\.[\w-]+$/);
    const url = `${await listenOnce(app)}${request.path}`;
    const first = await fetch(url, { method: request.method, headers: request.headers, body: request.body });
    const read = request.read({ status: first.status, headers: first.headers, text: await first.text() });
    expect([read.status, read.encrypted, read.body]).toEqual([201, true, { stored: '1111' }]);
    const again = await fetch(url, { method: request.method, headers: request.headers, body: request.body });
    expect([again.status, ((await again.json()) as { reason: string }).reason]).toEqual([401, 'nonce_replayed']);
  });

  it("an encrypted answer to another request is refused by read(): it must carry this request's nonce", async () => {
    const url = await listenOnce(app);
    const [a, b] = [1, 2].map(() => caller.prepare('POST', '/api/secrets', { card: '4000000000000002' }, { encrypt: true }));
    const answerToB = await fetch(`${url}${b.path}`, { method: b.method, headers: b.headers, body: b.body });
    const swapped = { status: answerToB.status, headers: answerToB.headers, text: await answerToB.text() };
    expect(b.read(swapped).body).toEqual({ stored: '0002' });
    expect(() => a.read(swapped)).toThrow('The encrypted answer was not made for this request');
  });

  it('sign(): headers for any client sending the same JSON, here the global fetch against a listening URL', async () => {
    const url = await listenOnce(app);
    const body = { productId: 'P456', quantity: 1 };
    const res = await fetch(`${url}/api/inventory`, {
      method: 'POST',
      headers: caller.sign('POST', '/api/inventory', body),
      body: JSON.stringify(body),
    });
    expect([res.status, await res.json()]).toEqual([201, { reserved: 'P456', quantity: 1, for: 'order-service' }]);
    // fetch(url): a base URL works as a target as well.
    expect((await caller.fetch(url, 'GET', '/api/inventory/search?q=%20x')).body).toEqual({ caller: 'order-service' });
  });
});

/** The app's URL, listening on a free port from now on (app.close() closes it). */
const listening = new WeakMap<INestApplication, Promise<string>>();
function listenOnce(app: INestApplication): Promise<string> {
  if (!listening.has(app)) listening.set(app, listenUrl(app));
  return listening.get(app)!;
}

describe.each<Adapter>(['express', 'fastify'])(
  'nest-service-auth/testing with a service configured from the environment (%s)',
  (adapter) => {
    // inventory-service requires encrypted bodies (ENCRYPTION_POLICY defaults to required): so does this caller.
    const caller = testCaller('order-service', { audience: 'inventory-service', encrypt: true });
    let inventory: INestApplication;

    beforeAll(async () => {
      // The demo inventory-service as it starts in production: its keys from SERVICE_AUTH_CALLERS and SERVICE_AUTH_CALLER_*_KEYS.
      inventory = await createInventoryApp({ adapter, logger: false, env: { ...caller.env(), INVENTORY_STOCK_STORE: 'memory' } });
      await inventory.init();
    });

    afterAll(async () => {
      await inventory?.close();
    });

    it('caller.env() is what the service reads; a signed order updates the stock', async () => {
      expect(caller.env()).toEqual({
        SERVICE_AUTH_CALLERS: 'order-service',
        SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS: `${caller.credential.id}:${caller.credential.apiKey}:${caller.credential.secret}`,
      });
      const res = await caller.fetch(
        inventory,
        'POST',
        '/api/inventory',
        { productId: 'P123', quantity: 2 },
        { headers: { 'Idempotency-Key': 'order-1' } },
      );
      expect([res.status, res.encrypted]).toEqual([200, true]);
      const stock = await caller.fetch(inventory, 'GET', '/api/inventory/P123');
      expect([stock.encrypted, stock.body]).toEqual([true, { productId: 'P123', stock: 98 }]);
    });
  },
);
