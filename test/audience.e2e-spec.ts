/**
 * A captured or misdirected request is worthless: audience binding and one credential per
 * (caller → callee) pair, on both adapters, with real HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { TestingModule } from '@nestjs/testing';
import { firstValueFrom } from 'rxjs';
import { ServiceAuthKeys, type KeyMaterial, type ServiceAuthModuleOptions } from 'nest-service-auth';
import { SignedHttpService } from 'nest-service-auth/client';
import { newCredential, type TestCredential } from './support/credentials.js';
import { startCallee, type CalleeApp } from './support/callee-app.js';
import type { Adapter } from './support/demo-services.js';
import { testCaller, type TestCaller } from 'nest-service-auth/testing';
import { rawRequest, reasonOf } from './support/raw-http.js';
import { signingClientModule } from './support/signing-client.js';

const pair = (c: TestCredential) => [{ id: c.id, apiKey: c.apiKey, secret: c.secret }];

describe.each<Adapter>(['express', 'fastify'])('audience binding and least privilege (%s)', (adapter) => {
  // order-service holds one credential per callee; each callee holds only its own pair.
  const toA = testCaller('order-service', { audience: 'callee-a' });
  const toB = testCaller('order-service', { audience: 'callee-b' });
  const toC = testCaller('order-service', { audience: 'callee-c' });
  let a: CalleeApp;
  let b: CalleeApp;
  let c: CalleeApp;
  let caller: TestingModule;

  beforeAll(async () => {
    const callee = (caller: TestCaller) =>
      startCallee(adapter, { serviceId: caller.audience, keys: { callers: [caller.asCaller()] } }, ['order-service']);
    [a, b, c] = await Promise.all([callee(toA), callee(toB), callee(toC)]);
    caller = await signingClientModule({
      serviceId: 'order-service',
      keys: {
        upstreams: [toA.asUpstream(a.url), toB.asUpstream(b.url)],
      },
      retry: false,
      circuitBreaker: false,
    });
  });

  afterAll(async () => {
    await caller?.close();
    await Promise.all([a, b, c].map((app) => app?.close()));
  });

  it('SignedHttpService signs each call with the credential of the upstream it goes to', async () => {
    const http = caller.get(SignedHttpService);
    const atA = await firstValueFrom(http.get(`${a.url}/whoami`));
    const atB = await firstValueFrom(http.get(`${b.url}/whoami`));
    expect(atA.data).toEqual({ caller: 'order-service', keyId: toA.credential.id });
    expect(atB.data).toEqual({ caller: 'order-service', keyId: toB.credential.id });
  });

  it('a call to a URL of no configured upstream is refused before anything is sent', async () => {
    const http = caller.get(SignedHttpService);
    await expect(firstValueFrom(http.get(`${c.url}/whoami`))).rejects.toThrow(
      /No upstream is configured for http:\/\/127\.0\.0\.1:\d+\/whoami/,
    );
  });

  it('a request signed for callee A, replayed at callee B within the window, is refused even with a key B knows', async () => {
    // The strongest form of the attack: B is (mis)configured with A's very credential, so only the audience stops it.
    const confused = await startCallee(adapter, { serviceId: 'callee-b', keys: { callers: [toA.asCaller()] } }, ['order-service']);
    try {
      const headers = toA.sign('GET', '/whoami');
      expect((await rawRequest(a.url, { method: 'GET', path: '/whoami', headers })).status).toBe(200);
      const replayed = await rawRequest(confused.url, { method: 'GET', path: '/whoami', headers });
      expect([replayed.status, reasonOf(replayed)]).toEqual([401, 'audience_mismatch']);
      expect(replayed.text).not.toContain(toA.credential.apiKey);
    } finally {
      await confused.close();
    }
  });

  it('with per-pair keys, the captured request does not even carry an API key callee B knows', async () => {
    const headers = toA.sign('GET', '/whoami');
    const atB = await rawRequest(b.url, { method: 'GET', path: '/whoami', headers });
    expect([atB.status, reasonOf(atB)]).toEqual([401, 'api_key_invalid']);
  });

  it("callee B's keys cannot produce a request that callee C accepts as coming from the caller", async () => {
    // Everything B holds of order-service is its own pair: sign with it, for C, as well as B could.
    const forged = testCaller('order-service', { audience: 'callee-c', credential: toB.credential });
    const atC = await rawRequest(c.url, { method: 'GET', path: '/whoami', headers: forged.sign('GET', '/whoami') });
    expect([atC.status, reasonOf(atC)]).toEqual([401, 'api_key_invalid']);
    // …and with C's API key (public to anyone who saw a request) but B's secret, the signature fails.
    const withCsApiKey = testCaller('order-service', {
      audience: 'callee-c',
      credential: { ...toB.credential, id: toC.credential.id, apiKey: toC.credential.apiKey },
    });
    const again = await rawRequest(c.url, { method: 'GET', path: '/whoami', headers: withCsApiKey.sign('GET', '/whoami') });
    expect([again.status, reasonOf(again)]).toEqual([401, 'signature_invalid']);
  });

  it('a signature without an audience is incomplete', async () => {
    const headers = toA.sign('GET', '/whoami');
    const input = headers['signature-input'].replace(/;tag="[^"]*"/, '');
    const res = await rawRequest(a.url, { method: 'GET', path: '/whoami', headers: { ...headers, 'signature-input': input } });
    expect([res.status, reasonOf(res)]).toEqual([401, 'signature_incomplete']);
  });
});

describe.each<Adapter>(['express', 'fastify'])('rotation is per pair (%s)', (adapter) => {
  const oldA = newCredential('order-to-a-1');
  const newA = newCredential('order-to-a-2');
  const toB = newCredential('order-to-b-1');
  let a: CalleeApp;
  let b: CalleeApp;
  let caller: TestingModule;
  const callerMaterial: KeyMaterial = {};
  const aMaterial: KeyMaterial = { callers: [{ id: 'order-service', keys: pair(oldA) }] };

  beforeAll(async () => {
    a = await startCallee(adapter, { serviceId: 'callee-a', keyProvider: { load: () => aMaterial } }, ['order-service']);
    b = await startCallee(adapter, { serviceId: 'callee-b', keys: { callers: [{ id: 'order-service', keys: pair(toB) }] } }, [
      'order-service',
    ]);
    callerMaterial.upstreams = [
      { id: 'callee-a', url: a.url, keys: pair(oldA) },
      { id: 'callee-b', url: b.url, keys: pair(toB) },
    ];
    caller = await signingClientModule({
      serviceId: 'order-service',
      keyProvider: { load: () => callerMaterial },
      retry: false,
    });
  });
  afterAll(async () => {
    await caller?.close();
    await Promise.all([a, b].map((app) => app?.close()));
  });

  it('rotating order-service → callee-a changes nothing for order-service → callee-b', async () => {
    const http = caller.get(SignedHttpService);
    const whoAtB = async () => (await firstValueFrom(http.get<unknown>(`${b.url}/whoami`))).data;
    const whoAtA = async () => (await firstValueFrom(http.get<unknown>(`${a.url}/whoami`))).data;
    expect(await whoAtA()).toEqual({ caller: 'order-service', keyId: oldA.id });

    aMaterial.callers = [{ id: 'order-service', keys: [...pair(oldA), ...pair(newA)] }]; // 1. callee adds the new key
    await a.app.get(ServiceAuthKeys).reload();
    callerMaterial.upstreams![0] = { id: 'callee-a', url: a.url, keys: [...pair(newA), ...pair(oldA)] }; // 2. caller switches
    await caller.get(SignedHttpService).keys.reload();
    expect(await whoAtA()).toEqual({ caller: 'order-service', keyId: newA.id });
    aMaterial.callers = [{ id: 'order-service', keys: pair(newA) }]; // 3. callee retires the old key
    await a.app.get(ServiceAuthKeys).reload();

    expect(await whoAtA()).toEqual({ caller: 'order-service', keyId: newA.id });
    expect(await whoAtB()).toEqual({ caller: 'order-service', keyId: toB.id });
  });
});

describe.each<Adapter>(['express', 'fastify'])('fail closed when no callers are configured (%s)', (adapter) => {
  let app: CalleeApp;
  beforeAll(async () => {
    app = await startCallee(
      adapter,
      { serviceId: 'edge', keys: { upstreams: [{ id: 'x', url: 'http://127.0.0.1:1', keys: pair(newCredential('k')) }] } },
      [],
    );
  });
  afterAll(async () => {
    await app?.close();
  });

  it('a route that is not @PublicRoute() refuses an unauthenticated request', async () => {
    const res = await rawRequest(app.url, { method: 'GET', path: '/whoami' });
    expect([res.status, reasonOf(res)]).toEqual([401, 'api_key_missing']);
  });

  it('a @PublicRoute() still answers', async () => {
    expect((await rawRequest(app.url, { method: 'GET', path: '/health' })).status).toBe(200);
  });
});

describe('guard installation is an explicit decision', () => {
  const upstreams = () => [{ id: 'x', url: 'http://127.0.0.1:1', keys: pair(newCredential('k')) }];

  it("guard: 'none' does not start, and says what a service that accepts no signed callers does instead", async () => {
    const callers = [{ id: 'order-service', keys: pair(newCredential('k')) }];
    const none = { serviceId: 'svc', guard: 'none', keys: { callers } } as unknown as ServiceAuthModuleOptions;
    await expect(startCallee('express', none, [])).rejects.toThrow(
      /guard must be 'global' or 'manual' \(got "none"\)\. A service that accepts no signed callers does not register ServiceAuthModule/,
    );
  });

  it.each(['encrypt', 'coverAuthority', 'verifyAnswers'])(
    'a pure caller whose %s names an upstream that is not configured does not start',
    async (setting) => {
      await expect(signingClientModule({ serviceId: 'svc', keys: { upstreams: upstreams() }, [setting]: ['inventory'] })).rejects.toThrow(
        new RegExp(`SignedHttpModule: ${setting} names "inventory", which is not a configured upstream \\(configured: x\\)`),
      );
    },
  );

  it('a pure caller without upstreams does not start', async () => {
    const callers = [{ id: 'order-service', keys: pair(newCredential('k')) }];
    await expect(signingClientModule({ serviceId: 'svc', keys: { callers } })).rejects.toThrow(/^SignedHttpModule has no upstreams/);
  });

  it('a @TrustedCaller route naming no configured caller does not start', async () => {
    await expect(startCallee('express', { serviceId: 'svc', keys: { upstreams: upstreams() } }, ['order-service'])).rejects.toThrow(
      /@TrustedCaller\('order-service'\).*no callers configured/,
    );
  });
});
