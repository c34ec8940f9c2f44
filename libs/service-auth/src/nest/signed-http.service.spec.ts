import { beforeAll, describe, expect, it } from '@jest/globals';
import { HttpService } from '@nestjs/axios';
import { Logger } from '@nestjs/common';
import axios, { AxiosError, AxiosHeaders, isCancel, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';
import { randomBytes } from 'node:crypto';
import { firstValueFrom, lastValueFrom } from 'rxjs';
import { UpstreamUnavailableError } from '../client/upstream-unavailable.error.js';
import { ServiceAuthKeys } from './service-auth-keys.service.js';
import type { ServiceAuthModuleOptions, SignedHttpClientOptions } from './service-auth-options.interface.js';
import { SignedHttpService } from './signed-http.service.js';

type Step = { status: number; headers?: Record<string, string> } | { network: string } | { hang: true };

interface Seen {
  method: string;
  url: string;
  headers: Record<string, string>;
  signal?: AbortSignal;
}

/** An axios adapter that plays a script of answers, one per request, and records what was sent. */
function scriptedAdapter(script: Step[]) {
  const seen: Seen[] = [];
  const adapter = async (config: InternalAxiosRequestConfig): Promise<AxiosResponse> => {
    const headers = Object.fromEntries(Object.entries(AxiosHeaders.from(config.headers).toJSON()).map(([k, v]) => [k.toLowerCase(), String(v)]));
    seen.push({ method: String(config.method).toUpperCase(), url: String(config.url), headers, signal: config.signal as AbortSignal | undefined });
    const step = script.shift() ?? { status: 200 };
    if ('hang' in step) {
      return new Promise((_resolve, reject) => {
        (config.signal as AbortSignal).addEventListener('abort', () => reject(new axios.CanceledError('aborted', undefined, config)));
      });
    }
    if ('network' in step) throw new AxiosError(`connect ${step.network}`, step.network, config, {});
    const response: AxiosResponse = { status: step.status, statusText: '', headers: step.headers ?? {}, config, data: { ok: step.status < 400 } };
    if (config.validateStatus && !config.validateStatus(step.status)) {
      throw new AxiosError(`Request failed with status code ${step.status}`, 'ERR_BAD_RESPONSE', config, {}, response);
    }
    return response;
  };
  return { adapter, seen };
}

const nonceOf = (headers: Record<string, string>) => /;nonce="([^"]+)"/.exec(headers['signature-input'] ?? '')?.[1];
const UPSTREAM = 'http://inventory.test:8082';

describe('SignedHttpService resilience', () => {
  let keys: ServiceAuthKeys;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    keys = await ServiceAuthKeys.create({
      serviceId: 'order-service',
      keys: { credentials: [{ id: 'order-1', apiKey: `sk_${randomBytes(32).toString('base64url')}`, secret: randomBytes(32).toString('base64url') }] },
    });
  });

  function service(script: Step[], client: SignedHttpClientOptions = {}) {
    const { adapter, seen } = scriptedAdapter(script);
    const options: ServiceAuthModuleOptions = { serviceId: 'order-service', client: { retry: { baseDelayMs: 0, maxDelayMs: 0 }, ...client } };
    return { http: new SignedHttpService(new HttpService(axios.create({ adapter })), keys, options), seen };
  }

  it('retries a POST with an Idempotency-Key, signing every attempt afresh (same key, new nonce)', async () => {
    const { http, seen } = service([{ network: 'ECONNRESET' }, { status: 503 }, { status: 200 }]);
    const answer = await firstValueFrom(http.post(`${UPSTREAM}/api/inventory`, { productId: 'P1', quantity: 1 }, { headers: { 'Idempotency-Key': 'order-42' } }));
    expect(answer.status).toBe(200);
    expect(seen).toHaveLength(3);
    expect(new Set(seen.map((s) => s.headers['idempotency-key']))).toEqual(new Set(['order-42']));
    expect(new Set(seen.map((s) => nonceOf(s.headers))).size).toBe(3);
    expect(new Set(seen.map((s) => s.headers['signature'])).size).toBe(3);
    for (const s of seen) expect(s.headers['signature-input']).toContain('"idempotency-key"');
  });

  it('sends a POST without Idempotency-Key exactly once', async () => {
    const { http, seen } = service([{ network: 'ECONNRESET' }, { status: 200 }]);
    await expect(firstValueFrom(http.post(`${UPSTREAM}/api/inventory`, { a: 1 }))).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(seen).toHaveLength(1);
  });

  it('retries GET up to maxAttempts, then emits the last error', async () => {
    const { http, seen } = service([{ network: 'ECONNREFUSED' }, { network: 'ECONNREFUSED' }, { status: 504 }], { retry: { maxAttempts: 3, baseDelayMs: 0 } });
    await expect(firstValueFrom(http.get(`${UPSTREAM}/api/inventory/P1`))).rejects.toMatchObject({ response: { status: 504 } });
    expect(seen).toHaveLength(3);
  });

  it('does not retry a 4xx', async () => {
    const { http, seen } = service([{ status: 409 }, { status: 200 }]);
    await expect(firstValueFrom(http.put(`${UPSTREAM}/x`, { a: 1 }))).rejects.toMatchObject({ response: { status: 409 } });
    expect(seen).toHaveLength(1);
  });

  it('retry: false sends every request once', async () => {
    const { http, seen } = service([{ network: 'ECONNRESET' }, { status: 200 }], { retry: false });
    await expect(firstValueFrom(http.get(`${UPSTREAM}/x`))).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(seen).toHaveLength(1);
  });

  it('is cold: each subscription sends (and signs) again', async () => {
    const { http, seen } = service([]);
    const call = http.get(`${UPSTREAM}/x`);
    expect(seen).toHaveLength(0);
    await lastValueFrom(call);
    await lastValueFrom(call);
    expect(seen).toHaveLength(2);
    expect(nonceOf(seen[0].headers)).not.toBe(nonceOf(seen[1].headers));
  });

  it('opens the circuit of an origin after N failed attempts and then fails fast with UpstreamUnavailableError', async () => {
    const { http, seen } = service(
      Array.from({ length: 10 }, () => ({ network: 'ECONNREFUSED' })),
      { retry: { maxAttempts: 2, baseDelayMs: 0 }, circuitBreaker: { consecutiveFailures: 3, halfOpenAfterMs: 60_000 } },
    );
    await expect(firstValueFrom(http.get(`${UPSTREAM}/a`))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(seen).toHaveLength(2);
    // Third attempt fails and opens the circuit; the retry then meets the open circuit and stops.
    const error = await firstValueFrom(http.get(`${UPSTREAM}/b`)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamUnavailableError);
    expect(error).toMatchObject({ upstream: UPSTREAM, reason: 'circuit_open' });
    expect(seen).toHaveLength(3);
    await expect(firstValueFrom(http.post(`${UPSTREAM}/c`, { a: 1 }))).rejects.toBeInstanceOf(UpstreamUnavailableError);
    expect(seen).toHaveLength(3);
    // Another origin is not affected (its own two attempts are made).
    await expect(firstValueFrom(http.get('http://payments.test:8083/x'))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(seen.slice(3).map((s) => s.url)).toEqual(['http://payments.test:8083/x', 'http://payments.test:8083/x']);
  });

  it('circuitBreaker: false never opens a circuit', async () => {
    const { http, seen } = service(
      Array.from({ length: 20 }, () => ({ status: 500 })),
      { retry: false, circuitBreaker: false },
    );
    for (let i = 0; i < 10; i++) await expect(firstValueFrom(http.get(`${UPSTREAM}/x`))).rejects.toMatchObject({ response: { status: 500 } });
    expect(seen).toHaveLength(10);
  });

  it('unsubscribing cancels the request in flight', async () => {
    const { http, seen } = service([{ hang: true }]);
    const errors: unknown[] = [];
    const subscription = http.get(`${UPSTREAM}/slow`).subscribe({ error: (e) => errors.push(e) });
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toHaveLength(1);
    expect(seen[0].signal?.aborted).toBe(false);
    subscription.unsubscribe();
    expect(seen[0].signal?.aborted).toBe(true);
    expect(errors).toEqual([]);
  });

  it("the caller's own AbortSignal cancels too, and is not retried", async () => {
    const { http, seen } = service([{ hang: true }, { status: 200 }]);
    const controller = new AbortController();
    const pending = firstValueFrom(http.get(`${UPSTREAM}/slow`, { signal: controller.signal }));
    await new Promise((resolve) => setImmediate(resolve));
    controller.abort();
    const error = await pending.catch((e: unknown) => e);
    expect(isCancel(error)).toBe(true);
    expect(seen).toHaveLength(1);
  });
});
