import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { HttpException, Logger, type ExecutionContext, type Type } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ThrottlerStorageService, type ThrottlerModuleOptions, type ThrottlerStorage } from '@nestjs/throttler';
import { randomBytes } from 'node:crypto';
import { ThrottlerStorageUnavailableError } from '../../errors/throttler-storage-unavailable.error.js';
import { CallerThrottlerGuard } from './caller-throttler.guard.js';
import { PublicRoute } from '../decorators/public-route.decorator.js';
import { VERIFIED_CALLER_PROPERTY } from '../options/service-auth.constants.js';
import { ServiceAuthKeys } from '../service-auth-keys.service.js';
import { TrustedCaller } from '../decorators/trusted-caller.decorator.js';

/** A route handler, as ExecutionContext.getHandler() hands it out: any method of a controller. */
type RouteHandler = (...args: never[]) => unknown;

const credential = () => ({
  id: `k-${randomBytes(4).toString('hex')}`,
  apiKey: 'sk_' + randomBytes(32).toString('base64url'),
  secret: randomBytes(32).toString('base64url'),
});

@TrustedCaller('order-service', 'audit-service')
class StockController {
  read() {}

  @PublicRoute()
  health() {}
}

@PublicRoute()
class StatusController {
  open() {}

  @TrustedCaller('order-service')
  restricted() {}
}

interface FakeRequest {
  method: string;
  originalUrl: string;
  ip: string;
  headers: Record<string, string>;
  [VERIFIED_CALLER_PROPERTY]?: { id: string };
}

class FakeResponse {
  readonly headers: Record<string, string | number> = {};
  header(name: string, value: string | number) {
    this.headers[name.toLowerCase()] = value;
    return this;
  }
  getHeader(name: string) {
    return this.headers[name.toLowerCase()];
  }
}

function request(ip: string, callerId?: string): FakeRequest {
  const req: FakeRequest = { method: 'GET', originalUrl: '/stock/P1?secret=x', ip, headers: {} };
  if (callerId) req[VERIFIED_CALLER_PROPERTY] = { id: callerId };
  return req;
}

function context(req: FakeRequest, controller: Type, handler: RouteHandler, res = new FakeResponse()): ExecutionContext {
  return {
    getType: () => 'http',
    getClass: () => controller,
    getHandler: () => handler,
    switchToHttp: () => ({ getRequest: () => req, getResponse: () => res, getNext: () => undefined }),
  } as unknown as ExecutionContext;
}

/** Records the keys the guard asks the storage to count, delegating to the in-memory storage. */
class RecordingStorage implements ThrottlerStorage {
  readonly keys: string[] = [];
  readonly inner = new ThrottlerStorageService();
  increment(key: string, ttl: number, limit: number, blockDuration: number, name: string) {
    this.keys.push(key);
    return this.inner.increment(key, ttl, limit, blockDuration, name);
  }
}

let inboundKeys: ServiceAuthKeys;
let outboundKeys: ServiceAuthKeys;
const storages: ThrottlerStorageService[] = [];
const logged: unknown[] = [];

async function guardWith(
  options: ThrottlerModuleOptions,
  storage: ThrottlerStorage = new RecordingStorage(),
  /** null: no ServiceAuthModule in the application, so nothing to inject. */
  keys: ServiceAuthKeys | null = inboundKeys,
) {
  if (storage instanceof RecordingStorage) storages.push(storage.inner);
  const guard = new CallerThrottlerGuard(options, storage, new Reflector(), keys ?? undefined);
  await guard.onModuleInit();
  return guard;
}

/** The tracker the guard computes (a protected method; ThrottlerGuard calls it as getTracker(req, context)). */
const trackerOf = (guard: CallerThrottlerGuard, req: FakeRequest, ctx: ExecutionContext) =>
  (guard as unknown as { getTracker(req: unknown, ctx: ExecutionContext): Promise<string> }).getTracker(req, ctx);

async function refusal(guard: CallerThrottlerGuard, ctx: ExecutionContext): Promise<HttpException> {
  try {
    await guard.canActivate(ctx);
  } catch (err) {
    expect(err).toBeInstanceOf(HttpException);
    return err as HttpException;
  }
  throw new Error('the guard allowed the request');
}

beforeAll(async () => {
  jest.spyOn(Logger.prototype, 'warn').mockImplementation((entry: unknown) => void logged.push(entry));
  jest.spyOn(Logger.prototype, 'error').mockImplementation((entry: unknown) => void logged.push(entry));
  inboundKeys = await ServiceAuthKeys.create({
    serviceId: 'inventory-service',
    keys: {
      callers: [
        { id: 'order-service', keys: [credential()] },
        { id: 'audit-service', keys: [credential()] },
      ],
    },
  });
  outboundKeys = await ServiceAuthKeys.create({
    serviceId: 'order-service',
    keys: { upstreams: [{ id: 'inventory-service', url: 'http://inventory:8082', keys: [credential()] }] },
  });
});

afterAll(() => {
  for (const storage of storages) storage.onApplicationShutdown();
  jest.restoreAllMocks();
});

describe('CallerThrottlerGuard: tracker', () => {
  const options: ThrottlerModuleOptions = { throttlers: [{ ttl: 60_000, limit: 100 }] };

  it('is the verified caller id, whatever the client IP', async () => {
    const guard = await guardWith(options);
    const read = StockController.prototype.read;
    await expect(trackerOf(guard, request('10.0.0.1', 'order-service'), context(request('10.0.0.1'), StockController, read))).resolves.toBe(
      'caller:order-service',
    );
    await expect(trackerOf(guard, request('10.0.0.2', 'order-service'), context(request('10.0.0.2'), StockController, read))).resolves.toBe(
      'caller:order-service',
    );
  });

  it('one caller from two IPs shares one counter; two callers from one IP do not', async () => {
    const storage = new RecordingStorage();
    const guard = await guardWith(options, storage);
    const read = StockController.prototype.read;
    for (const req of [request('10.0.0.1', 'order-service'), request('10.0.0.2', 'order-service'), request('10.0.0.1', 'audit-service')]) {
      await expect(guard.canActivate(context(req, StockController, read))).resolves.toBe(true);
    }
    const [orderFromA, orderFromB, auditFromA] = storage.keys;
    expect(orderFromA).toBe(orderFromB);
    expect(auditFromA).not.toBe(orderFromA);
  });

  it('falls back to the client IP on public routes only', async () => {
    const guard = await guardWith(options);
    await expect(
      trackerOf(guard, request('10.0.0.9'), context(request('10.0.0.9'), StatusController, StatusController.prototype.open)),
    ).resolves.toBe('ip:10.0.0.9');
    // @PublicRoute on the handler of a @TrustedCaller controller.
    await expect(
      trackerOf(guard, request('10.0.0.9'), context(request('10.0.0.9'), StockController, StockController.prototype.health)),
    ).resolves.toBe('ip:10.0.0.9');
  });

  it('a route that requires a caller but has none (guard ran before ServiceAuthGuard) fails loudly, never counts by IP', async () => {
    const guard = await guardWith(options);
    for (const [controller, handler] of [
      [StockController, StockController.prototype.read],
      // The handler's @TrustedCaller wins over the controller's @PublicRoute, as in ServiceAuthGuard.
      [StatusController, StatusController.prototype.restricted],
    ] as const) {
      const req = request('10.0.0.9');
      await expect(guard.canActivate(context(req, controller, handler))).rejects.toThrow(/@UseGuards\(CallerThrottlerGuard\)/);
    }
  });

  it('a service without ServiceAuthModule (a pure caller: no keys to inject) counts by IP', async () => {
    const guard = await guardWith(options, new RecordingStorage(), null);
    await expect(
      trackerOf(guard, request('10.0.0.8'), context(request('10.0.0.8'), StockController, StockController.prototype.read)),
    ).resolves.toBe('ip:10.0.0.8');
  });

  it('a service that accepts no callers (outbound only) counts by IP, as every route is open there', async () => {
    const guard = await guardWith(options, new RecordingStorage(), outboundKeys);
    await expect(
      trackerOf(guard, request('10.0.0.7'), context(request('10.0.0.7'), StockController, StockController.prototype.read)),
    ).resolves.toBe('ip:10.0.0.7');
  });
});

describe('CallerThrottlerGuard: refusals', () => {
  it('over the limit: 429 rate_limited in the library format, with Retry-After set before the throw', async () => {
    const guard = await guardWith({ throttlers: [{ ttl: 60_000, limit: 2 }] });
    const read = StockController.prototype.read;
    for (let i = 0; i < 2; i++) {
      const res = new FakeResponse();
      await expect(guard.canActivate(context(request('10.0.0.1', 'order-service'), StockController, read, res))).resolves.toBe(true);
      expect(res.headers['x-ratelimit-remaining']).toBe(1 - i);
    }
    logged.length = 0;
    const res = new FakeResponse();
    const err = await refusal(guard, context(request('10.0.0.3', 'order-service'), StockController, read, res));
    expect(err.getStatus()).toBe(429);
    const body = err.getResponse() as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['error', 'message', 'reason', 'statusCode']);
    expect(body).toMatchObject({ statusCode: 429, error: 'Too Many Requests', reason: 'rate_limited' });
    expect(res.headers['retry-after']).toBe(60);
    expect(logged).toEqual([
      {
        event: 'service_auth_rejected',
        reason: 'rate_limited',
        status: 429,
        caller: 'order-service',
        method: 'GET',
        path: '/stock/P1',
        retryAfterSeconds: 60,
      },
    ]);

    // Another caller is unaffected.
    await expect(guard.canActivate(context(request('10.0.0.3', 'audit-service'), StockController, read))).resolves.toBe(true);
  });

  it('a named throttler still answers with a plain Retry-After (next to Retry-After-<name>)', async () => {
    const guard = await guardWith({ throttlers: [{ name: 'burst', ttl: 10_000, limit: 1 }] });
    const read = StockController.prototype.read;
    await guard.canActivate(context(request('10.0.0.1', 'order-service'), StockController, read));
    const res = new FakeResponse();
    const err = await refusal(guard, context(request('10.0.0.1', 'order-service'), StockController, read, res));
    expect(err.getResponse()).toMatchObject({ reason: 'rate_limited' });
    expect(res.headers['retry-after-burst']).toBe(10);
    expect(res.headers['retry-after']).toBe(10);
  });

  it('a storage that cannot answer: 503 rate_limit_unavailable, details in the log only', async () => {
    const failing: ThrottlerStorage = {
      increment: async () => {
        throw new ThrottlerStorageUnavailableError('Rate limit store unavailable: connect ECONNREFUSED 10.1.2.3:6379');
      },
    };
    const guard = await guardWith({ throttlers: [{ ttl: 60_000, limit: 2 }] }, failing);
    logged.length = 0;
    const err = await refusal(guard, context(request('10.0.0.1', 'order-service'), StockController, StockController.prototype.read));
    expect(err.getStatus()).toBe(503);
    expect(err.getResponse()).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      reason: 'rate_limit_unavailable',
      message: 'Rate limiting is temporarily unavailable',
    });
    expect(JSON.stringify(err.getResponse())).not.toMatch(/6379|10\.1\.2\.3|ECONNREFUSED/);
    expect(logged).toEqual([
      expect.objectContaining({
        reason: 'rate_limit_unavailable',
        status: 503,
        caller: 'order-service',
        detail: expect.stringContaining('ECONNREFUSED'),
      }),
    ]);
  });

  it('any other storage error is not disguised', async () => {
    const boom = new Error('bug');
    const guard = await guardWith({ throttlers: [{ ttl: 60_000, limit: 2 }] }, { increment: async () => Promise.reject(boom) });
    await expect(
      guard.canActivate(context(request('10.0.0.1', 'order-service'), StockController, StockController.prototype.read)),
    ).rejects.toBe(boom);
  });
});
