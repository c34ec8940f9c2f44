import { beforeAll, describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import axios, { AxiosError, AxiosHeaders, isAxiosError, isCancel, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';
import { randomBytes } from 'node:crypto';
import { firstValueFrom, lastValueFrom } from 'rxjs';
import { inspect } from 'node:util';
import { UpstreamAnswerRefusedError } from '../../client/upstream-answer-refused.error.js';
import { isUpstreamHttpError, UpstreamHttpError } from '../../client/upstream-http.error.js';
import { UpstreamNotConfiguredError } from '../../client/upstream-not-configured.error.js';
import { UpstreamUnavailableError } from '../../client/upstream-unavailable.error.js';
import { encryptCompact } from '../../crypto/jwe-compact.js';
import type { CredentialDefinition, KeyMaterial } from '../../keys/key-material.js';
import { KeyRing } from '../../keys/key-ring.js';
import { httpMessage } from '../../protocol/http-message.js';
import { RequestVerifier } from '../../protocol/request-verifier.js';
import { MemoryNonceStore } from '../../replay/memory-nonce-store.js';
import { ServiceAuthKeys } from '../service-auth-keys.service.js';
import { resolveClientOptions } from '../../client/resolved-client-options.js';
import type { SignedHttpClientOptions } from '../../client/signed-http-options.js';
import { SignedHttpService } from './signed-http.service.js';
import { asHmacKey } from '../../keys/key-ring.js';

type Answer = { status: number; headers?: Record<string, string>; data?: unknown };
type Step = Answer | { network: string } | { hang: true } | { reply: (request: Seen) => Answer };

interface Seen {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: Buffer;
  signal?: AbortSignal;
}

/** An axios adapter that plays a script of answers, one per request, and records what was sent. */
function scriptedAdapter(script: Step[]) {
  const seen: Seen[] = [];
  const adapter = async (config: InternalAxiosRequestConfig): Promise<AxiosResponse> => {
    const headers = Object.fromEntries(
      Object.entries(AxiosHeaders.from(config.headers).toJSON()).map(([k, v]) => [k.toLowerCase(), String(v)]),
    );
    const body = config.data === undefined ? undefined : Buffer.from(config.data as Uint8Array);
    const request: Seen = {
      method: String(config.method).toUpperCase(),
      url: String(config.url),
      headers,
      body,
      signal: config.signal as AbortSignal | undefined,
    };
    seen.push(request);
    let step = script.shift() ?? { status: 200 };
    if ('hang' in step) {
      return new Promise((_resolve, reject) => {
        (config.signal as AbortSignal).addEventListener('abort', () => reject(new axios.CanceledError('aborted', undefined, config)));
      });
    }
    if ('network' in step) throw new AxiosError(`connect ${step.network}`, step.network, config, {});
    if ('reply' in step) step = step.reply(request);
    const data = 'data' in step ? step.data : { ok: step.status < 400 };
    const response: AxiosResponse = { status: step.status, statusText: '', headers: step.headers ?? {}, config, data };
    if (config.validateStatus && !config.validateStatus(step.status)) {
      throw new AxiosError(`Request failed with status code ${step.status}`, 'ERR_BAD_RESPONSE', config, {}, response);
    }
    return response;
  };
  return { adapter, seen };
}

const nonceOf = (headers: Record<string, string>) => /;nonce="([^"]+)"/.exec(headers['signature-input'] ?? '')?.[1];
const paramOf = (headers: Record<string, string>, name: string) =>
  new RegExp(`;${name}="([^"]+)"`).exec(headers['signature-input'] ?? '')?.[1];
const UPSTREAM = 'http://inventory.test:8082';
const PAYMENTS = 'http://payments.test:8083';

const credential = (id: string): CredentialDefinition => ({
  id,
  apiKey: `sk_${randomBytes(32).toString('base64url')}`,
  secret: randomBytes(32).toString('base64url'),
});

/** The pairs order-service holds, one credential set per upstream (the first key signs). */
const PAIRS = {
  inventory: { id: 'inventory-service', url: UPSTREAM, keys: [credential('inv-2'), credential('inv-1')] },
  payments: { id: 'payments-service', url: PAYMENTS, keys: [credential('pay-1')] },
  billing: { id: 'billing-service', url: 'http://billing.test/api', keys: [credential('bill-1')] },
  billingV2: { id: 'billing-v2', url: 'http://billing.test/api/v2', keys: [credential('bill-v2-1')] },
};

/** order-service's key material: every upstream it calls. The one place the tests' configuration is built. */
function orderServiceKeys(): KeyMaterial {
  return { upstreams: Object.values(PAIRS) };
}

/** What an upstream's own verifier makes of a request order-service sent it: the callee's side of the pair. */
function calleeVerify(pair: (typeof PAIRS)[keyof typeof PAIRS], request: Seen) {
  const ring = KeyRing.from({ callers: [{ id: 'order-service', keys: pair.keys }] }, pair.id);
  const url = new URL(request.url);
  const message = httpMessage({ method: request.method, target: url.pathname + url.search, authority: url.host, headers: request.headers });
  return new RequestVerifier(() => ring, new MemoryNonceStore(), { audience: pair.id })
    .verify(message, request.body ?? Buffer.alloc(0))
    .then((verified) => verified.caller);
}

let keys: ServiceAuthKeys;

beforeAll(async () => {
  Logger.overrideLogger(false);
  keys = await ServiceAuthKeys.create({ serviceId: 'order-service', keys: orderServiceKeys() }, 'SignedHttpModule');
});

function service(script: Step[], client: SignedHttpClientOptions = {}, serviceKeys: ServiceAuthKeys = keys) {
  const { adapter, seen } = scriptedAdapter(script);
  // The scripted answers are unsigned: answer signatures have their own specs (response-signature, signed-answers e2e).
  const options = resolveClientOptions({
    serviceId: 'order-service',
    retry: { baseDelayMs: 0, maxDelayMs: 0 },
    verifyAnswers: false,
    ...client,
  });
  const http = new SignedHttpService(serviceKeys, options);
  // The network, replaced: an adapter function on the client's own instance carries every signed call.
  http.axiosRef.defaults.adapter = adapter;
  return { http, seen };
}

describe('SignedHttpService resilience', () => {
  it('retries a POST with an Idempotency-Key, signing every attempt afresh (same key, new nonce)', async () => {
    const { http, seen } = service([{ network: 'ECONNRESET' }, { status: 503 }, { status: 200 }]);
    const answer = await firstValueFrom(
      http.post(`${UPSTREAM}/api/inventory`, { productId: 'P1', quantity: 1 }, { headers: { 'Idempotency-Key': 'order-42' } }),
    );
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
    const { http, seen } = service([{ network: 'ECONNREFUSED' }, { network: 'ECONNREFUSED' }, { status: 504 }], {
      retry: { maxAttempts: 3, baseDelayMs: 0 },
    });
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
    await expect(firstValueFrom(http.get(`${PAYMENTS}/x`))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(seen.slice(3).map((s) => s.url)).toEqual([`${PAYMENTS}/x`, `${PAYMENTS}/x`]);
  });

  it('circuitBreaker: false never opens a circuit', async () => {
    const { http, seen } = service(
      Array.from({ length: 20 }, () => ({ status: 500 })),
      { retry: false, circuitBreaker: false },
    );
    for (let i = 0; i < 10; i++)
      await expect(firstValueFrom(http.get(`${UPSTREAM}/x`))).rejects.toMatchObject({ response: { status: 500 } });
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

describe('SignedHttpService error answers: UpstreamHttpError', () => {
  it('a 401 refusal: status, reason code, upstream id and the key id that signed, and nothing that signs', async () => {
    const { http, seen } = service([
      { status: 401, data: { statusCode: 401, reason: 'signature_invalid', message: 'Signature mismatch' } },
    ]);
    const error = await firstValueFrom(http.post(`${UPSTREAM}/api/inventory`, { a: 1 })).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(UpstreamHttpError);
    expect(isUpstreamHttpError(error)).toBe(true);
    // Still the AxiosError code written for HttpService expects.
    expect(isAxiosError(error)).toBe(true);
    expect(error).toMatchObject({
      status: 401,
      reason: 'signature_invalid',
      upstreamId: 'inventory-service',
      keyId: 'inv-2',
      upstream: UPSTREAM,
      response: { status: 401, data: { reason: 'signature_invalid' } },
    });
    expect((error as Error).message).toBe(
      'Upstream inventory-service answered 401 signature_invalid to POST /api/inventory (signed with key inv-2)',
    );
    const serialised = JSON.stringify(error) + inspect(error, { depth: 8 });
    for (const key of PAIRS.inventory.keys) {
      expect(serialised).not.toContain(key.apiKey);
      expect(serialised).not.toContain(key.secret);
    }
    expect(serialised).not.toContain(seen[0].headers['signature']);
  });

  it("reason is the answer's reason code only: free text, a non-JSON body or none at all give undefined", async () => {
    for (const data of [{ reason: 'Stock <b>low</b>' }, 'Internal error', undefined, '{"reason":"body_malformed"}']) {
      const { http } = service([{ status: 500, data }], { retry: false });
      const error = await firstValueFrom(http.get(`${UPSTREAM}/x`)).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(UpstreamHttpError);
      expect((error as UpstreamHttpError).reason).toBe(typeof data === 'string' && data.startsWith('{') ? 'body_malformed' : undefined);
    }
  });

  it('a redirect stays an UpstreamAnswerRefusedError, now naming the upstream id and key id too', async () => {
    const { http } = service([{ status: 302, headers: { location: 'http://elsewhere.test/' } }]);
    const error = await firstValueFrom(http.get(`${UPSTREAM}/x`)).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(UpstreamAnswerRefusedError);
    expect(error).toMatchObject({ reason: 'upstream_redirect', upstreamId: 'inventory-service', keyId: 'inv-2' });
  });
});

describe('SignedHttpService upstream selection', () => {
  it("signs with the first key of the URL's upstream and names that upstream as the audience; the upstream accepts it", async () => {
    const { http, seen } = service([{ status: 200 }, { status: 200 }]);
    await firstValueFrom(http.post(`${UPSTREAM}/api/inventory?dry=1`, { productId: 'P1', quantity: 1 }));
    await firstValueFrom(http.get(`${PAYMENTS}/api/payments/7`));
    const [toInventory, toPayments] = seen;
    expect(toInventory.headers['x-api-key']).toBe(PAIRS.inventory.keys[0].apiKey);
    expect(paramOf(toInventory.headers, 'keyid')).toBe('inv-2');
    expect(paramOf(toInventory.headers, 'tag')).toBe('inventory-service');
    expect(toPayments.headers['x-api-key']).toBe(PAIRS.payments.keys[0].apiKey);
    expect(paramOf(toPayments.headers, 'keyid')).toBe('pay-1');
    expect(paramOf(toPayments.headers, 'tag')).toBe('payments-service');

    await expect(calleeVerify(PAIRS.inventory, toInventory)).resolves.toMatchObject({ id: 'order-service', keyId: 'inv-2' });
    await expect(calleeVerify(PAIRS.payments, toPayments)).resolves.toMatchObject({ id: 'order-service', keyId: 'pay-1' });
    // Each request is worthless at the other service: its API key names nobody there.
    await expect(calleeVerify(PAIRS.payments, toInventory)).rejects.toMatchObject({ reason: 'api_key_invalid' });
  });

  it('the upstream with the longest matching base path wins, on a segment boundary', async () => {
    const { http, seen } = service([]);
    const calls = {
      'http://billing.test/api/v2/invoices': 'billing-v2',
      'http://billing.test/api/v2': 'billing-v2',
      'http://billing.test/api/v20/invoices': 'billing-service',
      'http://billing.test/api/invoices?year=2024': 'billing-service',
      'http://billing.test/api': 'billing-service',
    };
    for (const url of Object.keys(calls)) await firstValueFrom(http.get(url));
    expect(seen.map((s) => paramOf(s.headers, 'tag'))).toEqual(Object.values(calls));
    expect(seen.map((s) => s.headers['x-api-key'])).toEqual(
      Object.values(calls).map((id) => (id === 'billing-v2' ? PAIRS.billingV2 : PAIRS.billing).keys[0].apiKey),
    );
    await expect(calleeVerify(PAIRS.billingV2, seen[0])).resolves.toMatchObject({ keyId: 'bill-v2-1' });
    await expect(calleeVerify(PAIRS.billing, seen[2])).resolves.toMatchObject({ keyId: 'bill-1' });
  });

  it('a URL of no configured upstream is refused with UpstreamNotConfiguredError and nothing is sent', async () => {
    const { http, seen } = service([], { retry: { maxAttempts: 3, baseDelayMs: 0 } });
    const elsewhere = [
      'http://evil.test/collect?token=abc',
      'http://inventory.test:8083/api/inventory',
      'https://inventory.test:8082/api/inventory',
      'http://inventory.test/api/inventory',
      'http://billing.test/apix/invoices',
      'http://billing.test/',
      'http://billing.test:8080/api/invoices',
    ];
    for (const url of elsewhere) {
      for (const call of [http.get(url), http.post(url, { secret: 'data' }), http.put(url, 'x', { headers: { 'Idempotency-Key': 'k' } })]) {
        const error = await firstValueFrom(call).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(UpstreamNotConfiguredError);
        expect(error).toMatchObject({ name: 'UpstreamNotConfiguredError', code: 'upstream_not_configured' });
      }
    }
    expect(seen).toEqual([]);

    const error = (await firstValueFrom(http.get('http://evil.test/collect?token=abc')).catch(
      (e: unknown) => e,
    )) as UpstreamNotConfiguredError;
    expect(error.target).toBe('http://evil.test/collect');
    expect(error.message).not.toContain('token=abc');
    for (const id of ['inventory-service', 'payments-service', 'billing-service', 'billing-v2']) expect(error.message).toContain(id);
    expect(seen).toEqual([]);
  });

  it('a relative URL without baseURL is refused the same way; with a baseURL of an upstream it is signed for that upstream', async () => {
    const { http, seen } = service([]);
    await expect(firstValueFrom(http.get('/api/inventory'))).rejects.toBeInstanceOf(UpstreamNotConfiguredError);
    expect(seen).toEqual([]);

    await firstValueFrom(http.get('/api/inventory', { baseURL: UPSTREAM, params: { sku: 'A 1' } }));
    expect(seen).toHaveLength(1);
    expect(seen[0].url.startsWith(`${UPSTREAM}/api/inventory?sku=`)).toBe(true);
    expect(paramOf(seen[0].headers, 'tag')).toBe('inventory-service');
    await expect(calleeVerify(PAIRS.inventory, seen[0])).resolves.toMatchObject({ keyId: 'inv-2' });
  });

  it('refused calls do not count against the circuit of their origin', async () => {
    const { http, seen } = service([], { retry: false, circuitBreaker: { consecutiveFailures: 2, halfOpenAfterMs: 60_000 } });
    for (let i = 0; i < 5; i++)
      await expect(firstValueFrom(http.get(`${UPSTREAM.replace('8082', '8083')}/x`))).rejects.toBeInstanceOf(UpstreamNotConfiguredError);
    for (let i = 0; i < 5; i++)
      await expect(firstValueFrom(http.get('http://billing.test/other'))).rejects.toBeInstanceOf(UpstreamNotConfiguredError);
    // billing.test is the origin of configured upstreams: its circuit is still closed.
    await expect(firstValueFrom(http.get('http://billing.test/api/x'))).resolves.toMatchObject({ status: 200 });
    expect(seen).toHaveLength(1);
  });

  it('after a reload, the new first key of the upstream signs', async () => {
    let material = orderServiceKeys();
    const reloading = await ServiceAuthKeys.create(
      { serviceId: 'order-service', keyProvider: { load: () => material } },
      'SignedHttpModule',
    );
    const { http, seen } = service([], {}, reloading);
    expect(http.keys).toBe(reloading);
    await firstValueFrom(http.get(`${UPSTREAM}/x`));
    const rotated = { ...PAIRS.inventory, keys: [credential('inv-3'), ...PAIRS.inventory.keys] };
    material = { upstreams: [rotated, PAIRS.payments] };
    await reloading.reload();
    await firstValueFrom(http.get(`${UPSTREAM}/x`));
    expect(seen.map((s) => paramOf(s.headers, 'keyid'))).toEqual(['inv-2', 'inv-3']);
    await expect(calleeVerify(rotated, seen[1])).resolves.toMatchObject({ keyId: 'inv-3' });
    // billing is gone after the reload: calls to it are no longer signed.
    await expect(firstValueFrom(http.get('http://billing.test/api/x'))).rejects.toBeInstanceOf(UpstreamNotConfiguredError);
    expect(seen).toHaveLength(2);
  });

  it('a reload that would leave the client without upstreams is refused; the running keys stay', async () => {
    let material = orderServiceKeys();
    const reloading = await ServiceAuthKeys.create(
      { serviceId: 'order-service', keyProvider: { load: () => material } },
      'SignedHttpModule',
    );
    const { http, seen } = service([], {}, reloading);
    material = { callers: [{ id: 'billing-service', keys: [credential('bill-in-1')] }] };
    await expect(http.keys.reload()).rejects.toThrow(/no upstreams/);
    await firstValueFrom(http.get(`${UPSTREAM}/x`));
    expect(paramOf(seen[0].headers, 'keyid')).toBe('inv-2');
  });

  it('urlFor builds a URL at a configured upstream, and refuses an unknown upstream id', () => {
    const { http } = service([]);
    expect(http.urlFor('inventory-service', '/api/inventory')).toBe(`${UPSTREAM}/api/inventory`);
    expect(http.urlFor('inventory-service', 'api/inventory')).toBe(`${UPSTREAM}/api/inventory`);
    expect(http.urlFor('billing-v2', '/invoices')).toBe('http://billing.test/api/v2/invoices');
    expect(http.urlFor('payments-service')).toBe(`${PAYMENTS}/`);
    expect(() => http.urlFor('nobody', '/x')).toThrow(UpstreamNotConfiguredError);
    expect(() => http.urlFor('nobody', '/x')).toThrow(/inventory-service/);
  });
});

describe('SignedHttpService encrypt (by upstream id)', () => {
  /** An encrypted answer to `request`, under one of an upstream's keys. */
  const sealedAnswer =
    (key: CredentialDefinition, audience: string, kid = key.id) =>
    (request: Seen): Answer => {
      const ring = KeyRing.from({ callers: [{ id: 'order-service', keys: [key] }] }, audience);
      const jwe = encryptCompact(Buffer.from('{"ok":"sealed"}'), asHmacKey(ring.findCallerKey('order-service', key.id)).encryptionKey, {
        kid,
        nonce: nonceOf(request.headers),
        status: 200,
      });
      return { status: 200, headers: { 'content-type': 'application/jose' }, data: jwe };
    };

  it('encrypts only for the upstreams listed, by id', async () => {
    const { http, seen } = service([{ reply: sealedAnswer(PAIRS.payments.keys[0], 'payments-service') }, { status: 200 }], {
      encrypt: ['payments-service'],
    });
    await expect(firstValueFrom(http.post(`${PAYMENTS}/pay`, { amount: 5 }))).resolves.toMatchObject({ data: { ok: 'sealed' } });
    await firstValueFrom(http.post(`${UPSTREAM}/api/inventory`, { productId: 'P1' }));
    expect(seen[0].headers['content-type']).toBe('application/jose');
    expect(seen[0].headers['accept']).toBe('application/jose');
    expect(seen[0].body?.toString()).not.toContain('amount');
    expect(seen[1].headers['content-type']).toBe('application/json');
    expect(seen[1].headers['accept']).not.toBe('application/jose');
    expect(seen[1].body?.toString()).toBe('{"productId":"P1"}');
    await expect(calleeVerify(PAIRS.payments, seen[0])).resolves.toMatchObject({ keyId: 'pay-1' });
  });

  it('a URL prefix in the list (the former form) is refused before any call: it would encrypt nothing', () => {
    expect(() => service([], { encrypt: [UPSTREAM] })).toThrow(/encrypt must be true, false or a list of upstream ids/);
  });

  it('encrypt: true encrypts for every upstream', async () => {
    const { http, seen } = service(
      [
        { status: 204, data: '' },
        { status: 204, data: '' },
      ],
      { encrypt: true },
    );
    // An unsealed 2xx answer to an encrypted call is refused, an empty 204 included (PROTOCOL.md §5.1).
    await expect(firstValueFrom(http.post(`${UPSTREAM}/a`, { a: 1 }))).rejects.toMatchObject({ reason: 'encryption_required' });
    await expect(firstValueFrom(http.post('http://billing.test/api/v2/b', { b: 2 }))).rejects.toMatchObject({
      reason: 'encryption_required',
    });
    expect(seen.map((s) => s.headers['content-type'])).toEqual(['application/jose', 'application/jose']);
  });

  it("an encrypted answer is opened with the upstream's keys only: a rotated-out key of that upstream works, another upstream's key does not", async () => {
    const { http } = service(
      [
        { reply: sealedAnswer(PAIRS.inventory.keys[1], 'inventory-service') },
        // payments' key, under its own kid: not a key of inventory-service
        { reply: sealedAnswer(PAIRS.payments.keys[0], 'payments-service') },
        // payments' key material, passed off under a kid inventory-service does have
        { reply: sealedAnswer(PAIRS.payments.keys[0], 'payments-service', 'inv-1') },
      ],
      { encrypt: true, retry: false },
    );
    await expect(firstValueFrom(http.get(`${UPSTREAM}/a`))).resolves.toMatchObject({ data: { ok: 'sealed' } });
    await expect(firstValueFrom(http.get(`${UPSTREAM}/b`))).rejects.toMatchObject({ name: 'ServiceAuthError', reason: 'key_unknown' });
    await expect(firstValueFrom(http.get(`${UPSTREAM}/c`))).rejects.toMatchObject({
      name: 'ServiceAuthError',
      reason: 'decryption_failed',
    });
  });
});
