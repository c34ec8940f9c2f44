import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { resolveOptions } from '../options/resolved-options.js';
import type { ServiceAuthRequest } from '../adapters/service-auth-request.js';
import { RefusalLog } from './refusal-log.js';

const logOf = (strangerRefusalsPerSecond: number) =>
  new RefusalLog(resolveOptions({ serviceId: 'inventory-service', logging: { strangerRefusalsPerSecond } }));

describe('RefusalLog', () => {
  let warnings: string[];

  beforeEach(() => {
    jest.useFakeTimers({ now: Date.UTC(2026, 10, 29, 12, 0, 0, 250) });
    warnings = [];
    jest.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => {
      warnings.push(String(message));
    });
  });
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  const admitted = (log: RefusalLog, reason: 'api_key_missing' | 'api_key_invalid', n: number, route = '/api/inventory') => {
    let count = 0;
    for (let i = 0; i < n; i++) if (log.admit(reason, 'POST', route)) count++;
    return count;
  };

  it('admits the first N refusals of a reason in a second, and says at its end how many were left out', () => {
    const log = logOf(3);
    expect(admitted(log, 'api_key_invalid', 1000)).toBe(3);
    expect(warnings).toEqual([]);
    jest.advanceTimersByTime(749); // 12:00:00.999
    expect(warnings).toEqual([]);
    jest.advanceTimersByTime(1); // the second is over
    const second = Math.floor(Date.UTC(2026, 10, 29, 12, 0, 0) / 1000);
    expect(warnings).toEqual([
      `service_auth_rejected_suppressed reason=api_key_invalid method=POST route=/api/inventory suppressed=997 perSecond=3 second=${second}`,
    ]);
    // a new second: N more in full, and nothing more to say
    expect(admitted(log, 'api_key_invalid', 3)).toBe(3);
    jest.advanceTimersByTime(5000);
    expect(warnings).toHaveLength(1);
  });

  it('counts each route on its own: a flood on one route hides nothing on another', () => {
    const log = logOf(2);
    expect(admitted(log, 'api_key_invalid', 50, '/cheap')).toBe(2);
    expect(admitted(log, 'api_key_invalid', 2, '/api/inventory/:productId')).toBe(2);
    expect(log.admit('api_key_invalid', 'GET', '/cheap')).toBe(true); // another method, another route
    jest.advanceTimersByTime(1000);
    expect(warnings).toEqual([
      expect.stringMatching(/^service_auth_rejected_suppressed reason=api_key_invalid method=POST route=\/cheap suppressed=48 /),
    ]);
  });

  it('beyond 1024 routes, the others share one count', () => {
    const log = logOf(1);
    for (let i = 0; i < 1024; i++) expect(log.admit('api_key_invalid', 'POST', `/r${i}`)).toBe(true);
    expect(log.admit('api_key_invalid', 'POST', '/one-more')).toBe(true);
    expect(log.admit('api_key_invalid', 'POST', '/and-another')).toBe(false);
    jest.advanceTimersByTime(1000);
    expect(warnings).toEqual([
      expect.stringMatching(/^service_auth_rejected_suppressed reason=api_key_invalid method=other route=other suppressed=1 /),
    ]);
  });

  it('a logger that throws when the count is said does not end the process', () => {
    const log = logOf(0);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => {
      throw new Error('log pipeline down');
    });
    expect(log.admit('api_key_invalid', 'POST', '/api/inventory')).toBe(false);
    expect(() => jest.advanceTimersByTime(1000)).not.toThrow();
    expect(() => log.onApplicationShutdown()).not.toThrow();
  });

  it('counts each reason on its own', () => {
    const log = logOf(2);
    expect(admitted(log, 'api_key_invalid', 5)).toBe(2);
    expect(admitted(log, 'api_key_missing', 5)).toBe(2);
    jest.advanceTimersByTime(1000);
    expect(warnings.map((w) => /reason=(\w+) method=POST route=\/api\/inventory suppressed=(\d+)/.exec(w)?.slice(1)).sort()).toEqual([
      ['api_key_invalid', '3'],
      ['api_key_missing', '3'],
    ]);
  });

  it('says a pending count before the first line of the next second when that comes first', () => {
    const log = logOf(1);
    expect(admitted(log, 'api_key_missing', 4)).toBe(1);
    // the clock moves on without the timer having run
    jest.setSystemTime(Date.now() + 1000);
    expect(log.admit('api_key_missing', 'POST', '/api/inventory')).toBe(true);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^service_auth_rejected_suppressed reason=api_key_missing method=POST route=\/api\/inventory suppressed=3 /,
    );
    jest.advanceTimersByTime(5000);
    expect(warnings).toHaveLength(1);
  });

  it('says what is pending when the application shuts down', () => {
    const log = logOf(0);
    expect(admitted(log, 'api_key_invalid', 7)).toBe(0);
    log.onApplicationShutdown();
    expect(warnings).toEqual([
      expect.stringMatching(/reason=api_key_invalid method=POST route=\/api\/inventory suppressed=7 perSecond=0 /),
    ]);
    jest.advanceTimersByTime(5000);
    expect(warnings).toHaveLength(1);
  });

  it('admits every refusal with Infinity', () => {
    const log = logOf(Infinity);
    expect(admitted(log, 'api_key_invalid', 10_000)).toBe(10_000);
    jest.advanceTimersByTime(5000);
    expect(warnings).toEqual([]);
  });

  it('bounds every refusal of a request that was not verified, whatever the check, and none of a verified caller', () => {
    const log = logOf(0);
    const req = { method: 'POST', originalUrl: '/api/inventory', headers: {} } as unknown as ServiceAuthRequest;
    for (const reason of ['api_key_missing', 'request_target_invalid', 'content_encoding_unsupported', 'body_too_large'] as const) {
      log.write(req, { reason, status: 400 }, '/api/inventory', () => undefined);
    }
    // A caller named by its API key alone is only claimed: anyone who has seen the key can send it.
    for (const reason of ['signature_invalid', 'nonce_replayed', 'request_target_invalid'] as const) {
      for (let i = 0; i < 10; i++) log.write(req, { reason, status: 401 }, '/api/inventory', () => 'order-service');
    }
    expect(warnings).toEqual([]);
    const verified = { ...req, serviceAuthCaller: { id: 'order-service' } } as unknown as ServiceAuthRequest;
    for (let i = 0; i < 10; i++) log.write(verified, { reason: 'caller_not_trusted', status: 403 }, '/api/inventory');
    expect(warnings).toHaveLength(10);
  });

  it('counts the refusals of a claimed caller per caller and reason, across routes, and names the caller in the count', () => {
    const log = logOf(2);
    const write = (path: string, caller: string) =>
      log.write(
        { method: 'GET', originalUrl: path, headers: {} } as unknown as ServiceAuthRequest,
        { reason: 'signature_missing', status: 401 },
        path,
        () => caller,
      );
    for (let i = 0; i < 50; i++) write(`/route-${i}`, 'order-service');
    write('/items', 'billing-service');
    expect(warnings.map((w) => /caller=([\w-]+)/.exec(w)?.[1])).toEqual(['order-service', 'order-service', 'billing-service']);
    jest.advanceTimersByTime(1000);
    expect(warnings.slice(3)).toEqual([
      expect.stringMatching(/^service_auth_rejected_suppressed reason=signature_missing caller=order-service suppressed=48 perSecond=2 /),
    ]);
  });

  it('cuts a logged path to a fixed length, saying so', () => {
    const log = logOf(10);
    const path = `/files/${'a'.repeat(12 * 1024)}`;
    log.write(
      { method: 'GET', originalUrl: path, headers: {} } as unknown as ServiceAuthRequest,
      { reason: 'api_key_missing', status: 401 },
      '/files/*',
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0].length).toBeLessThan(400);
    expect(warnings[0]).toContain(`path="${path.slice(0, 256)}…(${path.length} chars cut to 256)"`);
  });

  it('writes each admitted refusal as one line, at warn (error for a 5xx), and nothing for a counted one', () => {
    const errors: string[] = [];
    jest.spyOn(Logger.prototype, 'error').mockImplementation((message: unknown) => void errors.push(String(message)));
    const log = logOf(1);
    const req = { method: 'POST', originalUrl: '/api/inventory?secret=1', headers: {} } as unknown as ServiceAuthRequest;
    const stranger = { reason: 'api_key_invalid', status: 401 } as const;
    log.write(req, stranger, '/api/inventory');
    log.write(req, stranger, '/api/inventory');
    log.write(req, { reason: 'replay_store_unavailable', status: 503, detail: 'redis down' }, '/api/inventory', () => 'order-service');
    expect(warnings).toEqual(['service_auth_rejected reason=api_key_invalid status=401 method=POST path=/api/inventory']);
    expect(errors).toEqual([
      'service_auth_rejected reason=replay_store_unavailable status=503 caller=order-service method=POST path=/api/inventory detail="redis down"',
    ]);
  });
});
