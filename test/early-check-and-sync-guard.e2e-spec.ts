/**
 * The fast paths of the guard behave as the slow ones: the early API-key check runs after the
 * application's own URL-rewriting middleware (it routes as the router will), a refusal of a body the
 * caller sent (not of the caller) is one metrics event on every adapter, and a nonce store that
 * overrides claim() is always asked through it.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import type { VerificationObserver } from 'nest-service-auth';
import { KeyRing, MemoryNonceStore, RequestVerifier, httpMessage, type NonceClaim } from 'nest-service-auth/core';
import { startCallee, type CalleeApp } from './support/callee-app.js';
import { newCredential } from './support/credentials.js';
import type { Adapter } from './support/demo-services.js';
import { RecordingObserver } from './support/recording.js';
import { rawRequest, reasonOf, signedHeaders, signingCredential } from './support/raw-http.js';

const caller = newCredential('order-1');
const signing = signingCredential(caller, { audience: 'ledger-service' });

/** The ledger: `POST /entries` trusts order-service, `POST /webhook` is public. */
function startLedger(adapter: Adapter, observer: VerificationObserver, instance?: express.Express): Promise<CalleeApp> {
  const options = {
    serviceId: 'ledger-service',
    keys: { callers: [{ id: 'order-service', keys: [caller] }] },
    metrics: { observer },
    encryption: 'optional' as const,
  };
  return startCallee(adapter, options, ['order-service'], { express: instance });
}

describe('the early API-key check routes as the router will (Express, URL-rewriting middleware)', () => {
  let svc: CalleeApp;
  beforeAll(async () => {
    const instance = express();
    // A legacy alias: old clients post unsigned webhooks to /entries with X-Legacy-Webhook.
    instance.use((req, _res, next) => {
      if (req.url === '/entries' && req.headers['x-legacy-webhook']) req.url = '/webhook';
      next();
    });
    svc = await startLedger('express', new RecordingObserver(), instance);
  });
  afterAll(async () => {
    await svc?.close();
  });

  it('a request rewritten to a public route is served before and after a stranger was refused on the original one', async () => {
    const body = JSON.stringify({ a: 1 });
    const legacy = () =>
      rawRequest(svc.url, {
        method: 'POST',
        path: '/entries',
        body,
        headers: { 'content-type': 'application/json', 'x-legacy-webhook': '1' },
      });
    expect((await legacy()).status).toBe(200);
    const stranger = await rawRequest(svc.url, { method: 'POST', path: '/entries', body, headers: { 'content-type': 'application/json' } });
    expect([stranger.status, reasonOf(stranger)]).toEqual([401, 'api_key_missing']);
    expect((await legacy()).status).toBe(200);
  });
});

describe.each<Adapter>(['express', 'fastify'])('a verified request with a malformed encrypted body (%s)', (adapter) => {
  const observer = new RecordingObserver();
  let svc: CalleeApp;
  beforeAll(async () => {
    svc = await startLedger(adapter, observer);
  });
  afterAll(async () => {
    await svc?.close();
  });

  it('is 400 jwe_malformed and one metrics event (verified), not also an unexpected failure', async () => {
    const body = 'not.a.valid.jwe.body';
    const headers = signedHeaders(svc.url, signing, { method: 'POST', path: '/entries', body, contentType: 'application/jose' });
    const res = await rawRequest(svc.url, { method: 'POST', path: '/entries', body, headers });
    expect([res.status, reasonOf(res)]).toEqual([400, 'jwe_malformed']);
    expect(observer.events).toEqual(['verified']);
  });
});

describe('a nonce store that overrides claim()', () => {
  it('is asked through its claim()', async () => {
    const claims: NonceClaim[] = [];
    class AuditedStore extends MemoryNonceStore {
      override async claim(claim: NonceClaim, expiresAtMs: number): Promise<boolean> {
        claims.push(claim); // e.g. also checks a store shared by replicas
        return super.claim(claim, expiresAtMs);
      }
    }
    const ring = KeyRing.from({ callers: [{ id: 'order-service', keys: [caller] }] }, 'ledger-service');
    const verifier = new RequestVerifier(() => ring, new AuditedStore(), { audience: 'ledger-service' });
    const headers = signedHeaders('http://ledger.local', signing, { method: 'GET', path: '/entries' });
    await verifier.verify(httpMessage({ method: 'GET', target: '/entries', headers }), Buffer.alloc(0));
    expect(claims).toHaveLength(1);
  });
});
