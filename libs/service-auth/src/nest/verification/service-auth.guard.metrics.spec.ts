import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { HttpException, Logger, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { randomBytes } from 'node:crypto';
import type { RefusalEvent, VerificationEvent, VerificationObserver } from '../../metrics/verification-observer.js';
import { signRequest, type SigningCredential } from '../../protocol/request-signer.js';
import { RequestVerifier } from '../../protocol/request-verifier.js';
import { MemoryNonceStore } from '../../replay/memory-nonce-store.js';
import { PublicRoute } from '../decorators/public-route.decorator.js';
import { ServiceAuthGuard } from './service-auth.guard.js';
import { ServiceAuthKeys } from '../service-auth-keys.service.js';
import type { ServiceAuthModuleOptions } from '../options/service-auth-options.interface.js';
import { TrustedCaller } from '../decorators/trusted-caller.decorator.js';
import { resolveOptions } from '../options/resolved-options.js';

/** A route handler, as ExecutionContext.getHandler() hands it out: any method of a controller. */
type RouteHandler = (...args: never[]) => unknown;

/**
 * canActivate as a promise: it answers synchronously when it can (a boolean, or a refusal thrown at
 * once), and these tests treat both kinds of answer alike.
 */
const activate = async (guard: ServiceAuthGuard, context: ExecutionContext): Promise<boolean> => guard.canActivate(context);

const key = () => ({
  id: `k-${randomBytes(4).toString('hex')}`,
  apiKey: 'sk_' + randomBytes(32).toString('base64url'),
  secret: randomBytes(32).toString('base64url'),
});
const ORDER = key();
const BILLING = key();

class StockController {
  @TrustedCaller('order-service')
  read() {}

  @PublicRoute()
  health() {}
}

/** Records what the guard reports. */
class RecordingObserver implements VerificationObserver {
  readonly events: Array<{ kind: string; event: VerificationEvent | RefusalEvent }> = [];
  onVerified(event: VerificationEvent) {
    this.events.push({ kind: 'verified', event });
  }
  onRefused(event: RefusalEvent) {
    this.events.push({ kind: 'refused', event });
  }
  onFailed(event: VerificationEvent) {
    this.events.push({ kind: 'failed', event });
  }
}

interface FakeRequest {
  method: string;
  originalUrl: string;
  headers: Record<string, string>;
  rawBody: Buffer;
  route?: { path: string };
  routeOptions?: { url: string };
}

const context = (req: FakeRequest, handler: RouteHandler): ExecutionContext =>
  ({
    getType: () => 'http',
    getClass: () => StockController,
    getHandler: () => handler,
    switchToHttp: () => ({ getRequest: () => req, getResponse: () => ({}), getNext: () => undefined }),
  }) as unknown as ExecutionContext;

const options: ServiceAuthModuleOptions = { serviceId: 'inventory-service' };
let keys: ServiceAuthKeys;
let order: SigningCredential;
let billing: SigningCredential;
let observer: RecordingObserver;
let guard: ServiceAuthGuard;
const logged: unknown[] = [];

const newGuard = (obs: VerificationObserver | null, verifier?: RequestVerifier) =>
  new ServiceAuthGuard(
    new Reflector(),
    keys,
    verifier ?? new RequestVerifier(() => keys.ring, new MemoryNonceStore(), { audience: options.serviceId }),
    resolveOptions(options),
    obs,
  );

function signed(credential: SigningCredential, extra: Partial<FakeRequest> = {}): FakeRequest {
  const target = '/stock/P123?secret-query=1';
  const headers: Record<string, string> = { host: 'inventory.internal' };
  Object.assign(
    headers,
    signRequest({ method: 'GET', url: `http://inventory.internal${target}`, headers, body: Buffer.alloc(0) }, credential),
  );
  return { method: 'GET', originalUrl: target, headers, rawBody: Buffer.alloc(0), ...extra };
}

async function refusal(g: ServiceAuthGuard, req: FakeRequest): Promise<HttpException> {
  try {
    await activate(g, context(req, StockController.prototype.read));
  } catch (err) {
    return err as HttpException;
  }
  throw new Error('the guard allowed the request');
}

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
  order = { ...keys.ring.findCallerKey('order-service', ORDER.id)!, audience: 'inventory-service' };
  billing = { ...keys.ring.findCallerKey('billing-service', BILLING.id)!, audience: 'inventory-service' };
});

afterAll(() => {
  jest.restoreAllMocks();
});

beforeEach(() => {
  observer = new RecordingObserver();
  guard = newGuard(observer);
  logged.length = 0;
});

describe('ServiceAuthGuard reports every decision to the metrics observer', () => {
  it('accepted: the verified caller, the route pattern (Express: req.route.path), the method and the time taken', async () => {
    await expect(
      activate(guard, context(signed(order, { route: { path: '/stock/:productId' } }), StockController.prototype.read)),
    ).resolves.toBe(true);
    expect(observer.events).toEqual([
      {
        kind: 'verified',
        event: { route: '/stock/:productId', method: 'GET', caller: 'order-service', durationSeconds: expect.any(Number) },
      },
    ]);
    expect(observer.events[0].event.durationSeconds).toBeGreaterThanOrEqual(0);
  });

  it('the route pattern on Fastify (req.routeOptions.url), else the handler; never the path requested', async () => {
    await activate(guard, context(signed(order, { routeOptions: { url: '/stock/:productId' } }), StockController.prototype.read));
    await activate(guard, context(signed(order), StockController.prototype.read));
    expect(observer.events.map((e) => e.event.route)).toEqual(['/stock/:productId', 'StockController.read']);
  });

  it('refused: the reason and status, and the caller the API key belongs to (undefined for an unknown key)', async () => {
    const unknownKey = signed(order);
    unknownKey.headers['x-api-key'] = 'sk_' + randomBytes(32).toString('base64url');
    await refusal(guard, unknownKey);
    const badSignature = signed(order);
    badSignature.headers['signature'] = badSignature.headers['signature'].replace(/=:[^:]+:/, `=:${Buffer.alloc(32).toString('base64')}:`);
    await refusal(guard, badSignature);
    expect((await refusal(guard, signed(billing))).getStatus()).toBe(403);

    expect(observer.events.map(({ kind, event }) => ({ kind, ...event, durationSeconds: typeof event.durationSeconds }))).toEqual([
      {
        kind: 'refused',
        route: 'StockController.read',
        method: 'GET',
        caller: undefined,
        reason: 'api_key_invalid',
        status: 401,
        durationSeconds: 'number',
      },
      {
        kind: 'refused',
        route: 'StockController.read',
        method: 'GET',
        caller: 'order-service',
        reason: 'signature_invalid',
        status: 401,
        durationSeconds: 'number',
      },
      {
        kind: 'refused',
        route: 'StockController.read',
        method: 'GET',
        caller: 'billing-service',
        reason: 'caller_not_trusted',
        status: 403,
        durationSeconds: 'number',
      },
    ]);
    // Each refusal is still logged once.
    expect(logged).toHaveLength(3);
  });

  it('public routes are not verified, so not reported', async () => {
    await expect(
      activate(
        guard,
        context({ method: 'GET', originalUrl: '/health', headers: {}, rawBody: Buffer.alloc(0) }, StockController.prototype.health),
      ),
    ).resolves.toBe(true);
    expect(observer.events).toEqual([]);
  });

  it('an unexpected error is reported as failed and still reaches Nest (500)', async () => {
    const broken = {
      precheck: () => undefined,
      verify: async () => {
        throw new TypeError('boom');
      },
    } as unknown as RequestVerifier;
    const g = newGuard(observer, broken);
    await expect(activate(g, context(signed(order), StockController.prototype.read))).rejects.toThrow('boom');
    expect(observer.events.map((e) => e.kind)).toEqual(['failed']);
  });

  it('an observer that throws changes no decision and hides no refusal', async () => {
    const throwing: VerificationObserver = {
      onVerified: () => {
        throw new Error('metrics backend down');
      },
      onRefused: () => {
        throw new Error('metrics backend down');
      },
    };
    const g = newGuard(throwing);
    await expect(activate(g, context(signed(order), StockController.prototype.read))).resolves.toBe(true);
    const err = await refusal(g, signed(billing));
    expect(err.getResponse()).toMatchObject({ reason: 'caller_not_trusted' });
    expect(logged).toEqual([expect.objectContaining({ reason: 'caller_not_trusted' })]);
  });

  it('without an observer (metrics off) the guard decides exactly the same', async () => {
    const g = newGuard(null);
    await expect(activate(g, context(signed(order), StockController.prototype.read))).resolves.toBe(true);
    expect((await refusal(g, signed(billing))).getResponse()).toMatchObject({ reason: 'caller_not_trusted' });
  });
});
