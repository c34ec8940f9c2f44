/**
 * The signing client owns its axios instance. An application's own axios interceptors, on the
 * process-global instance or on an HttpModule-provided HttpService, are the application's business:
 * they must never see a signed call, which carries a bearer credential (the API key) and a fresh
 * signature nobody has used yet. Nor may the process-global `axios.defaults` an application (or an
 * APM agent, a mocking tool) sets reach a signed call; and a successful answer carries no credential
 * for an application that logs its responses.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { HttpModule, HttpService } from '@nestjs/axios';
import { Test, type TestingModule } from '@nestjs/testing';
import axios, { getAdapter, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';
import { Agent } from 'node:http';
import { inspect } from 'node:util';
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

describe('SignedHttpService and the process-global axios.defaults', () => {
  const credential = newCredential('order-2026-11');
  let callee: CalleeApp;
  let caller: TestingModule;
  const saved = { ...axios.defaults, headers: { ...axios.defaults.headers, common: { ...axios.defaults.headers.common } } };
  /** Set before the client is created, as an application or an agent loaded first would. */
  const globalAdapterSaw: string[] = [];
  let globalAgentConnections = 0;
  /** What the client's own instance dispatched, seen through its documented test-double seam. */
  const dispatched: InternalAxiosRequestConfig[] = [];

  beforeAll(async () => {
    callee = await startCallee(
      'express',
      { serviceId: 'inventory-service', keys: { callers: [{ id: 'order-service', keys: [credential] }] } },
      ['order-service'],
    );
    const http = getAdapter('http');
    axios.defaults.adapter = (config) => {
      globalAdapterSaw.push(JSON.stringify(config.headers));
      return http(config);
    };
    class CountingAgent extends Agent {
      override createConnection(...args: Parameters<Agent['createConnection']>) {
        globalAgentConnections += 1;
        return super.createConnection(...args);
      }
    }
    axios.defaults.httpAgent = new CountingAgent();
    axios.defaults.headers.common['Authorization'] = 'Bearer app-wide-token';
    axios.defaults.headers.common['X-App-Wide'] = 'yes';
    axios.defaults.auth = { username: 'app', password: 'app-password' };
    axios.defaults.baseURL = 'http://127.0.0.1:9';
    axios.defaults.transformResponse = [
      function (this: InternalAxiosRequestConfig, data: unknown) {
        globalAdapterSaw.push(`transformer saw ${JSON.stringify(this.headers)}`);
        return data;
      },
    ];
    caller = await signingClientModule({
      serviceId: 'order-service',
      keys: { upstreams: [{ id: 'inventory-service', url: callee.url, keys: [credential] }] },
      retry: false,
    });
    const ownHttp = getAdapter('http');
    caller.get(SignedHttpService).axiosRef.defaults.adapter = (config) => {
      dispatched.push(config);
      return ownHttp(config);
    };
  });

  afterAll(async () => {
    Object.assign(axios.defaults, saved);
    delete axios.defaults.auth;
    delete axios.defaults.baseURL;
    delete axios.defaults.httpAgent;
    await caller?.close();
    await callee?.close();
  });

  it('a signed call uses none of them: no global adapter, agent, header, auth, base URL or transformer', async () => {
    const answer = await firstValueFrom(caller.get(SignedHttpService).post<unknown>(`${callee.url}/echo`, { sku: 'P-1' }));
    expect(answer.data).toEqual({ caller: 'order-service', body: { sku: 'P-1' } });
    expect(globalAdapterSaw).toEqual([]);
    expect(globalAgentConnections).toBe(0);
    expect(dispatched).toHaveLength(1);
    const [sent] = dispatched as [InternalAxiosRequestConfig];
    expect(sent.headers.has('authorization')).toBe(false);
    expect(sent.headers.has('x-app-wide')).toBe(false);
    expect(sent.auth).toBeUndefined();
    expect(sent.baseURL).toBeUndefined();
    expect(sent.httpAgent).toBeUndefined();
    // The defaults are live: a call of the application's own still goes through all of them.
    await axios.get(`${callee.url}/health`).catch(() => undefined);
    expect(globalAdapterSaw.length).toBeGreaterThan(0);
  });

  it('a successful answer hands back neither the API key nor the signature (config, request)', async () => {
    const answer: AxiosResponse<unknown> = await firstValueFrom(caller.get(SignedHttpService).get<unknown>(`${callee.url}/whoami`));
    expect(answer.data).toEqual({ caller: 'order-service', keyId: credential.id });
    const signature = String(dispatched.at(-1)!.headers.get('signature'));
    expect(signature).toMatch(/^sig1=:/);
    const everything = inspect(answer, { depth: 10, showHidden: true });
    expect(everything).not.toContain(credential.apiKey);
    expect(everything).not.toContain(signature.slice(6, -1));
    expect(answer.config.url).toBe(`${callee.url}/whoami`);
    expect(answer.request).toEqual({ method: 'GET', url: `${callee.url}/whoami` });
  });
});
