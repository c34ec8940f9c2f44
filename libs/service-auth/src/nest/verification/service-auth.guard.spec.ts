import { describe, it, expect, jest, beforeAll, afterAll } from '@jest/globals';
import { HttpException, Logger, type ExecutionContext, type Type } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { RpcException } from '@nestjs/microservices';
import { WsException } from '@nestjs/websockets';
import { randomBytes } from 'node:crypto';
import { MemoryNonceStore } from '../../replay/memory-nonce-store.js';
import { hmacSha256 } from '../../protocol/hmac-sha256.js';
import { httpMessage } from '../../protocol/http-message.js';
import { signRequest, type HmacSigningCredential } from '../../protocol/request-signer.js';
import { RequestVerifier } from '../../protocol/request-verifier.js';
import { buildSignatureBase } from '../../protocol/signature-base.js';
import { parseSignatureFields } from '../../protocol/signature-fields.js';
import { PublicRoute } from '../decorators/public-route.decorator.js';
import { VERIFIED_CALLER_PROPERTY } from '../options/service-auth.constants.js';
import { ServiceAuthGuard } from './service-auth.guard.js';
import { ServiceAuthKeys } from '../service-auth-keys.service.js';
import type { ServiceAuthModuleOptions } from '../options/service-auth-options.interface.js';
import { TrustedCaller } from '../decorators/trusted-caller.decorator.js';
import { resolveOptions } from '../options/resolved-options.js';
import { asHmacKey } from '../../keys/key-ring.js';

/** A route handler, as ExecutionContext.getHandler() hands it out: any method of a controller. */
type RouteHandler = (...args: never[]) => unknown;

/**
 * canActivate as a promise: it answers synchronously when it can (a boolean, or a refusal thrown at
 * once), and these tests treat both kinds of answer alike.
 */
const activate = async (guard: ServiceAuthGuard, context: ExecutionContext): Promise<boolean> => guard.canActivate(context);

const secret = () => randomBytes(32).toString('base64url');
const apiKey = () => 'sk_' + randomBytes(32).toString('base64url');

const ORDER = { id: 'k-order', apiKey: apiKey(), secret: secret() };
const BILLING = { id: 'k-billing', apiKey: apiKey(), secret: secret() };

@TrustedCaller('billing-service')
class BillingController {
  @TrustedCaller('order-service')
  orderOnly() {}

  inheritsClassList() {}

  @PublicRoute()
  health() {}
}

@PublicRoute()
class PublicController {
  open() {}

  @TrustedCaller('order-service')
  restricted() {}
}

class PlainController {
  anything() {}
}

interface FakeRequest {
  method: string;
  originalUrl: string;
  /** What Express removed from the front of the target for a mounted application. */
  baseUrl?: string;
  /** The URL the router matched; Express keeps it in `url`, next to the `originalUrl` that arrived. */
  url?: string;
  headers: Record<string, string>;
  rawBody: Buffer;
  [VERIFIED_CALLER_PROPERTY]?: unknown;
}

function context(req: FakeRequest | undefined, controller: Type, handler: RouteHandler, type = 'http'): ExecutionContext {
  return {
    getType: () => type,
    getClass: () => controller,
    getHandler: () => handler,
    switchToHttp: () => {
      if (!req) throw new Error('switchToHttp must not be called');
      return { getRequest: () => req, getResponse: () => ({}), getNext: () => undefined };
    },
  } as unknown as ExecutionContext;
}

let keys: ServiceAuthKeys;
let guard: ServiceAuthGuard;
let orderCredential: HmacSigningCredential;
let billingCredential: HmacSigningCredential;
const options: ServiceAuthModuleOptions = { serviceId: 'inventory-service', maxBodyBytes: 1024 };
const logged: unknown[] = [];

beforeAll(async () => {
  jest.spyOn(Logger.prototype, 'warn').mockImplementation((entry: unknown) => void logged.push(entry));
  jest.spyOn(Logger.prototype, 'error').mockImplementation((entry: unknown) => void logged.push(entry));
  keys = await ServiceAuthKeys.create({
    serviceId: 'inventory-service',
    keys: {
      callers: [
        { id: 'order-service', keys: [ORDER] },
        { id: 'billing-service', keys: [BILLING] },
      ],
    },
  });
  guard = new ServiceAuthGuard(
    new Reflector(),
    keys,
    new RequestVerifier(() => keys.ring, new MemoryNonceStore(), { audience: options.serviceId }),
    resolveOptions(options),
  );
  orderCredential = asHmacKey(keys.ring.findCallerKey('order-service', ORDER.id));
  billingCredential = asHmacKey(keys.ring.findCallerKey('billing-service', BILLING.id));
});

afterAll(() => {
  jest.restoreAllMocks();
});

function signedRequest(credential: HmacSigningCredential, init: { method?: string; target?: string; body?: string } = {}): FakeRequest {
  const method = init.method ?? (init.body ? 'POST' : 'GET');
  const target = init.target ?? '/items?sku=A-1';
  const body = Buffer.from(init.body ?? '');
  const headers: Record<string, string> = { host: 'inventory.internal' };
  if (body.length > 0) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(body.length);
  }
  Object.assign(headers, signRequest({ method, url: `http://inventory.internal${target}`, headers, body }, credential));
  return { method, originalUrl: target, headers, rawBody: body };
}

const anonymous = (): FakeRequest => ({
  method: 'GET',
  originalUrl: '/items',
  headers: { host: 'inventory.internal' },
  rawBody: Buffer.alloc(0),
});

async function refusal(req: FakeRequest, controller: Type, handler: RouteHandler): Promise<HttpException> {
  try {
    await activate(guard, context(req, controller, handler));
  } catch (err) {
    expect(err).toBeInstanceOf(HttpException);
    return err as HttpException;
  }
  throw new Error('the guard allowed the request');
}

describe('ServiceAuthGuard: route classification', () => {
  it('@PublicRoute on the class: allowed without credentials', async () => {
    await expect(activate(guard, context(anonymous(), PublicController, PublicController.prototype.open))).resolves.toBe(true);
  });

  it('@PublicRoute on the handler: allowed without credentials even when the class has @TrustedCaller', async () => {
    await expect(activate(guard, context(anonymous(), BillingController, BillingController.prototype.health))).resolves.toBe(true);
  });

  it('handler @TrustedCaller wins over class @PublicRoute: the handler requires credentials', async () => {
    const err = await refusal(anonymous(), PublicController, PublicController.prototype.restricted);
    expect(err.getResponse()).toMatchObject({ reason: 'api_key_missing' });
    await expect(
      activate(guard, context(signedRequest(orderCredential), PublicController, PublicController.prototype.restricted)),
    ).resolves.toBe(true);
  });

  it('handler @TrustedCaller replaces (is not merged with) the class @TrustedCaller: the most specific declaration wins', async () => {
    const req = signedRequest(orderCredential);
    await expect(activate(guard, context(req, BillingController, BillingController.prototype.orderOnly))).resolves.toBe(true);
    expect(req[VERIFIED_CALLER_PROPERTY]).toMatchObject({ id: 'order-service', keyId: ORDER.id });

    // billing-service is trusted by the class, but the handler's own list does not include it.
    const err = await refusal(signedRequest(billingCredential), BillingController, BillingController.prototype.orderOnly);
    expect(err.getStatus()).toBe(403);
    expect(err.getResponse()).toMatchObject({ reason: 'caller_not_trusted' });
  });

  it('a handler without metadata inherits the class @TrustedCaller', async () => {
    await expect(
      activate(guard, context(signedRequest(billingCredential), BillingController, BillingController.prototype.inheritsClassList)),
    ).resolves.toBe(true);
    const err = await refusal(signedRequest(orderCredential), BillingController, BillingController.prototype.inheritsClassList);
    expect(err.getResponse()).toMatchObject({ reason: 'caller_not_trusted' });
  });

  it('no metadata: any configured caller that authenticates is accepted, anonymous is refused', async () => {
    await expect(
      activate(guard, context(signedRequest(orderCredential), PlainController, PlainController.prototype.anything)),
    ).resolves.toBe(true);
    await expect(
      activate(guard, context(signedRequest(billingCredential), PlainController, PlainController.prototype.anything)),
    ).resolves.toBe(true);
    expect((await refusal(anonymous(), PlainController, PlainController.prototype.anything)).getResponse()).toMatchObject({
      reason: 'api_key_missing',
    });
  });

  it('refuses an unsigned microservice message with api_key_missing in an RpcException, and one whose transport names no pattern with context_unsupported', async () => {
    const message = (rpcContext: object) =>
      ({
        ...context(undefined, PlainController, PlainController.prototype.anything, 'rpc'),
        getArgs: () => [{ sku: 'a' }, rpcContext],
        switchToRpc: () => ({ getData: () => ({ sku: 'a' }), getContext: () => rpcContext }),
      }) as unknown as ExecutionContext;
    const unsigned = await activate(guard, message({ getPattern: () => 'inventory.update' })).catch((e: unknown) => e);
    expect(unsigned).toBeInstanceOf(RpcException);
    expect((unsigned as RpcException).getError()).toEqual({ status: 401, reason: 'api_key_missing', message: expect.any(String) });
    const unrouted = await activate(guard, message({})).catch((e: unknown) => e);
    expect((unrouted as RpcException).getError()).toMatchObject({ status: 401, reason: 'context_unsupported' });
  });

  it("refuses a non-public handler of a context it does not verify (ws, custom) with context_unsupported, in that context's exception", async () => {
    const refused = (type: string) =>
      activate(guard, context(undefined, PlainController, PlainController.prototype.anything, type)).catch((e: unknown) => e);
    const ws = await refused('ws');
    expect(ws).toBeInstanceOf(WsException);
    expect((ws as WsException).getError()).toEqual({
      status: 401,
      reason: 'context_unsupported',
      message: expect.stringMatching(/@PublicRoute\(\)/),
    });
    const custom = await refused('kafka-bridge');
    expect(custom).toBeInstanceOf(HttpException);
    expect((custom as HttpException).getResponse()).toMatchObject({ statusCode: 401, reason: 'context_unsupported' });
  });

  it('runs a @PublicRoute() handler of a context it does not verify, without looking at the message', async () => {
    const publicMessage = {
      ...context(undefined, BillingController, BillingController.prototype.health, 'rpc'),
      getArgs: () => [{}, {}],
    } as unknown as ExecutionContext;
    await expect(activate(guard, publicMessage)).resolves.toBe(true);
    await expect(activate(guard, context(undefined, PublicController, PublicController.prototype.open, 'ws'))).resolves.toBe(true);
  });

  it('refuses a GraphQL resolver without an HTTP request (a subscription) with a GraphQL error carrying the reason', async () => {
    const subscription = {
      ...context(undefined, PlainController, PlainController.prototype.anything, 'graphql'),
      getArgByIndex: (index: number) => [undefined, {}, { req: anonymous() }, { operation: { operation: 'subscription' } }][index],
    } as unknown as ExecutionContext;
    const error = await activate(guard, subscription).catch((e: unknown) => e);
    expect((error as { extensions?: unknown }).extensions).toEqual({ reason: 'context_unsupported', status: 401 });
  });

  it('with NO callers configured (an outbound-only key set), every non-public route is refused (fail closed); public routes pass', async () => {
    const ownKey = { id: 'o1', apiKey: apiKey(), secret: secret() };
    const outbound = await ServiceAuthKeys.create({
      serviceId: 'order-service',
      keys: { upstreams: [{ id: 'inventory-service', url: 'http://inventory.internal', keys: [ownKey] }] },
    });
    expect(outbound.inbound).toBe(false);
    const outboundOptions: ServiceAuthModuleOptions = { serviceId: 'order-service', maxBodyBytes: 1024 };
    const verifier = new RequestVerifier(() => outbound.ring, new MemoryNonceStore(), { audience: 'order-service' });
    const outboundGuard = new ServiceAuthGuard(new Reflector(), outbound, verifier, resolveOptions(outboundOptions));
    const refusedBy = async (req: FakeRequest, controller: Type, handler: RouteHandler) => {
      try {
        await activate(outboundGuard, context(req, controller, handler));
      } catch (err) {
        expect(err).toBeInstanceOf(HttpException);
        return err as HttpException;
      }
      throw new Error('the guard allowed the request');
    };

    for (const [controller, handler] of [
      [PlainController, PlainController.prototype.anything],
      [BillingController, BillingController.prototype.orderOnly],
      [BillingController, BillingController.prototype.inheritsClassList],
      [PublicController, PublicController.prototype.restricted],
    ] as const) {
      const err = await refusedBy(anonymous(), controller, handler);
      expect(err.getStatus()).toBe(401);
      expect(err.getResponse()).toMatchObject({ statusCode: 401, reason: 'api_key_missing' });
    }
    // A request signed with a key this service holds for an upstream is no way in: that key names no caller.
    const ownCredential = asHmacKey(outbound.ring.upstream('inventory-service')!.keys[0]);
    const withOwnKey = await refusedBy(signedRequest(ownCredential), PlainController, PlainController.prototype.anything);
    expect(withOwnKey.getResponse()).toMatchObject({ statusCode: 401, reason: 'api_key_invalid' });
    // Nor is a request another service's caller signed correctly for that other service.
    const forInventory = await refusedBy(signedRequest(orderCredential), PlainController, PlainController.prototype.anything);
    expect(forInventory.getStatus()).toBe(401);

    await expect(activate(outboundGuard, context(anonymous(), PublicController, PublicController.prototype.open))).resolves.toBe(true);
    await expect(activate(outboundGuard, context(anonymous(), BillingController, BillingController.prototype.health))).resolves.toBe(true);
  });

  it('a request signed for another service (another audience) is 401 audience_mismatch, even from a trusted caller', async () => {
    const forBilling: HmacSigningCredential = { ...orderCredential, audience: 'billing-service' };
    const err = await refusal(signedRequest(forBilling), BillingController, BillingController.prototype.orderOnly);
    expect(err.getStatus()).toBe(401);
    expect(err.getResponse()).toMatchObject({ reason: 'audience_mismatch' });
  });

  it('a signed POST with a body is accepted and the verified caller attached to the request', async () => {
    const req = signedRequest(billingCredential, { target: '/orders', body: '{"sku":"A-1"}' });
    await expect(activate(guard, context(req, PlainController, PlainController.prototype.anything))).resolves.toBe(true);
    expect(req[VERIFIED_CALLER_PROPERTY]).toMatchObject({ id: 'billing-service', keyId: BILLING.id });
  });
});

describe('ServiceAuthGuard: refusals', () => {
  it('a refused request is an HttpException whose body is exactly {statusCode, error, reason, message}', async () => {
    const req = signedRequest(orderCredential, { target: '/orders?x=1' });
    req.originalUrl = '/orders?x=2';
    const err = await refusal(req, PlainController, PlainController.prototype.anything);
    expect(err.getStatus()).toBe(401);
    const body = err.getResponse() as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['error', 'message', 'reason', 'statusCode']);
    expect(body).toEqual({
      statusCode: 401,
      error: 'Unauthorized',
      reason: 'signature_invalid',
      message: 'The signature does not match the request',
    });
  });

  it('the refusal (body and log line) contains no secret: API key, HMAC key, received or expected signature', async () => {
    const req = signedRequest(orderCredential, { target: '/orders?x=1', body: '{"card":"4111111111111111"}' });
    req.originalUrl = '/orders?x=2';
    const [parsed] = parseSignatureFields(req.headers['signature-input'], req.headers['signature']);
    const tampered = httpMessage({ method: req.method, target: req.originalUrl, headers: req.headers });
    const expected = hmacSha256(orderCredential.hmacKey, buildSignatureBase(tampered, parsed.components, parsed.signatureParams));
    logged.length = 0;
    const err = await refusal(req, PlainController, PlainController.prototype.anything);
    expect(err.getResponse()).toMatchObject({ reason: 'signature_invalid' });
    const secrets = [
      ORDER.apiKey,
      ORDER.secret,
      Buffer.from(orderCredential.hmacKey).toString('base64'),
      Buffer.from(orderCredential.hmacKey).toString('hex'),
      parsed.signature.toString('base64'),
      parsed.signature.toString('hex'),
      expected.toString('base64'),
      expected.toString('hex'),
      '4111111111111111',
      'x=2',
    ];
    const body = JSON.stringify(err.getResponse());
    const log = JSON.stringify(logged);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({
      event: 'service_auth_rejected',
      reason: 'signature_invalid',
      status: 401,
      caller: 'order-service',
      path: '/orders',
    });
    for (const s of secrets) {
      expect(body).not.toContain(s);
      expect(log).not.toContain(s);
      expect(err.message).not.toContain(s);
    }
  });

  it('an invalid API key is 401 api_key_invalid and the key is not echoed', async () => {
    const key = apiKey();
    const req = signedRequest(orderCredential);
    req.headers['x-api-key'] = key;
    const err = await refusal(req, PlainController, PlainController.prototype.anything);
    expect(err.getResponse()).toEqual({
      statusCode: 401,
      error: 'Unauthorized',
      reason: 'api_key_invalid',
      message: 'The API key is not valid',
    });
    expect(JSON.stringify(err.getResponse())).not.toContain(key);
  });

  it('a replay is refused with nonce_replayed', async () => {
    const req = signedRequest(orderCredential);
    await expect(activate(guard, context(req, PlainController, PlainController.prototype.anything))).resolves.toBe(true);
    const replay = { ...req, [VERIFIED_CALLER_PROPERTY]: undefined };
    expect((await refusal(replay, PlainController, PlainController.prototype.anything)).getResponse()).toMatchObject({
      reason: 'nonce_replayed',
    });
  });

  it('a body above maxBodyBytes is 413 body_too_large, before any verification', async () => {
    const req = signedRequest(orderCredential, { target: '/orders', body: JSON.stringify({ pad: 'x'.repeat(2000) }) });
    const err = await refusal(req, PlainController, PlainController.prototype.anything);
    expect(err.getStatus()).toBe(413);
    expect(err.getResponse()).toMatchObject({ statusCode: 413, error: 'Payload Too Large', reason: 'body_too_large' });
  });

  it('a target with a fragment is 400 request_target_invalid, before the body is read (an oversized one is not 413)', async () => {
    const req = signedRequest(orderCredential, { target: '/orders', body: JSON.stringify({ pad: 'x'.repeat(2000) }) });
    req.originalUrl = '/orders#&role=admin';
    logged.length = 0;
    const err = await refusal(req, PlainController, PlainController.prototype.anything);
    expect(err.getResponse()).toMatchObject({ statusCode: 400, error: 'Bad Request', reason: 'request_target_invalid' });
    expect(logged).toEqual([expect.objectContaining({ event: 'service_auth_rejected', reason: 'request_target_invalid', status: 400 })]);
  });

  it('a URL rewritten between the wire and the router is 400 request_target_invalid; a mount point Express removed is not', async () => {
    const rewritten = signedRequest(orderCredential, { target: '/orders/1' });
    rewritten.url = '/orders/2';
    expect((await refusal(rewritten, PlainController, PlainController.prototype.anything)).getResponse()).toMatchObject({
      reason: 'request_target_invalid',
    });

    const mounted = signedRequest(orderCredential, { target: '/api/orders/1?x=1' });
    mounted.url = '/orders/1?x=1';
    mounted.baseUrl = '/api';
    await expect(activate(guard, context(mounted, PlainController, PlainController.prototype.anything))).resolves.toBe(true);
  });

  it('a suffix of the target is not a mount point unless Express says so: 400 request_target_invalid', async () => {
    const suffix = signedRequest(orderCredential, { target: '/files/orders/1' });
    suffix.url = '/orders/1';
    expect((await refusal(suffix, PlainController, PlainController.prototype.anything)).getResponse()).toMatchObject({
      reason: 'request_target_invalid',
    });
  });

  it('a content-encoded body is 415 content_encoding_unsupported, before the body is read', async () => {
    const req = signedRequest(orderCredential, { target: '/orders', body: JSON.stringify({ pad: 'x'.repeat(2000) }) });
    req.headers['content-encoding'] = 'gzip';
    const err = await refusal(req, PlainController, PlainController.prototype.anything);
    expect(err.getResponse()).toMatchObject({ statusCode: 415, error: 'Unsupported Media Type', reason: 'content_encoding_unsupported' });
  });

  it('an error that is not a refusal is rethrown as is (not turned into a 401)', async () => {
    const boom = new Error('store exploded');
    const failing = { precheck: () => undefined, verify: async () => Promise.reject(boom) } as unknown as RequestVerifier;
    const failingGuard = new ServiceAuthGuard(new Reflector(), keys, failing, resolveOptions(options));
    await expect(
      activate(failingGuard, context(signedRequest(orderCredential), PlainController, PlainController.prototype.anything)),
    ).rejects.toBe(boom);
  });
});
