/**
 * The signing client owns its axios instance. An application's own axios interceptors, on the
 * process-global instance or on an HttpModule-provided HttpService, are the application's business:
 * they must never see a signed call, which carries a bearer credential (the API key) and a fresh
 * signature nobody has used yet.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { HttpModule, HttpService } from '@nestjs/axios';
import { Test, type TestingModule } from '@nestjs/testing';
import axios, { type InternalAxiosRequestConfig } from 'axios';
import { SignedHttpService } from 'nest-service-auth/client';
import { firstValueFrom } from 'rxjs';
import { startCallee, type CalleeApp } from './support/callee-app.js';
import { newCredential } from './support/credentials.js';
import { signingClientModule } from './support/signing-client.js';

describe.each(['express', 'fastify'] as const)('SignedHttpService and the application’s own axios (%s)', (adapter) => {
  const credential = newCredential('order-2026-11');
  let callee: CalleeApp;
  let caller: TestingModule;
  let appHttp: TestingModule;
  /** Every request an application interceptor was shown (URL and headers), global instance and HttpService alike. */
  const intercepted: string[] = [];
  const record = (config: InternalAxiosRequestConfig) => {
    intercepted.push(`${config.url} ${JSON.stringify(config.headers)}`);
    return config;
  };
  let globalInterceptor: number;

  beforeAll(async () => {
    callee = await startCallee(
      adapter,
      { serviceId: 'inventory-service', keys: { callers: [{ id: 'order-service', keys: [credential] }] } },
      ['order-service'],
    );
    globalInterceptor = axios.interceptors.request.use(record);
    appHttp = await Test.createTestingModule({ imports: [HttpModule] }).compile();
    appHttp.get(HttpService).axiosRef.interceptors.request.use(record);
    caller = await signingClientModule({
      serviceId: 'order-service',
      keys: { upstreams: [{ id: 'inventory-service', url: callee.url, keys: [credential] }] },
      retry: false,
    });
  });

  afterAll(async () => {
    axios.interceptors.request.eject(globalInterceptor);
    await caller?.close();
    await appHttp?.close();
    await callee?.close();
  });

  it('a signed call succeeds while neither the global axios instance nor an HttpService interceptor sees it', async () => {
    const http = caller.get(SignedHttpService);
    const answer = await firstValueFrom(http.post<unknown>(`${callee.url}/echo`, { sku: 'P-1' }));
    expect(answer.data).toEqual({ caller: 'order-service', body: { sku: 'P-1' } });
    const whoami = await firstValueFrom(http.get<unknown>(`${callee.url}/whoami`));
    expect(whoami.data).toEqual({ caller: 'order-service', keyId: credential.id });

    expect(intercepted).toEqual([]);
    // The interceptors are live: the application's own calls go through them (HttpModule's HttpService
    // wraps the global instance, so each of its calls meets both interceptors).
    await axios.get(`${callee.url}/health`);
    await firstValueFrom(appHttp.get(HttpService).get(`${callee.url}/health`));
    expect(intercepted.length).toBeGreaterThanOrEqual(2);
    expect(intercepted.every((line) => line.startsWith(`${callee.url}/health `))).toBe(true);
  });

  it('axiosRef is the client’s own instance, neither the global one nor HttpService’s', () => {
    const ref = caller.get(SignedHttpService).axiosRef;
    expect(ref).not.toBe(axios);
    expect(ref).not.toBe(appHttp.get(HttpService).axiosRef);
  });
});
