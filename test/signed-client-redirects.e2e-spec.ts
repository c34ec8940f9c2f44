/**
 * What a hostile (or misconfigured) upstream can make the signing client do, over real HTTP.
 *
 * An upstream answering `307 Location: <another origin>` must not get the client to send the API key,
 * a fresh unused signature and the body there, nor have that origin's answer passed off as its own.
 * A second origin records every request that reaches it: it must see none, plaintext or encrypted,
 * whatever the call's config says. A huge or decompression-bomb answer is refused at a bounded size,
 * and a proxy named by the environment (HTTP_PROXY) never sees a signed request.
 *
 * Tested on SignedHttpService directly (a client-only Nest module) and through order-service, whose
 * InventoryClient must answer such failures with a 502 and a reason.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import { createRequire } from 'node:module';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { firstValueFrom, type Observable } from 'rxjs';
import { SignedHttpService, type SignedHttpClientOptions, type SignedHttpModuleOptions } from 'nest-service-auth/client';
import { createOrderApp } from '../apps/order-service/src/order-app.js';
import { inventoryUpstreamEnv, newCredential, type TestCredential } from './support/credentials.js';
import { listenUrl } from './support/demo-services.js';
import { answerJson, startRecordingServer, type AnswerHandler, type RecordingServer } from './support/recording-server.js';
import { signingClientModule } from './support/signing-client.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const REDIRECT_STATUSES = [301, 302, 303, 307, 308] as const;

/** The signing client's module options: one place, so a change in how outbound credentials are configured lands here only. */
function clientModuleOptions(credential: TestCredential, upstreamUrl: string, client: SignedHttpClientOptions): SignedHttpModuleOptions {
  return {
    serviceId: 'client-service',
    keys: {
      upstreams: [
        { id: 'inventory-service', url: upstreamUrl, keys: [{ id: credential.id, apiKey: credential.apiKey, secret: credential.secret }] },
      ],
    },
    // The upstream here is a scripted server that signs no answer: these cases are about transport
    // (redirects, proxies, sizes). Signed answers are tested in signed-answers.e2e-spec.ts.
    verifyAnswers: false,
    ...client,
  };
}

/** order-service's environment, its inventory at `inventoryUrl`: one place, for the same reason. */
function orderEnv(credential: TestCredential, inventoryUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return { ...inventoryUpstreamEnv(inventoryUrl, credential), ...extra };
}

const redirectTo =
  (status: number, location: string): AnswerHandler =>
  (_req, res) => {
    res.writeHead(status, { location, 'content-type': 'text/plain', 'content-length': '0' });
    res.end();
  };

/** An answer whose body is `body` as sent, with these headers. */
const answerBytes =
  (body: Buffer, headers: Record<string, string> = {}): AnswerHandler =>
  (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length), ...headers });
    res.end(body);
  };

/** A JSON string of exactly `bytes` bytes. */
const jsonOfSize = (bytes: number): Buffer => Buffer.from(JSON.stringify('a'.repeat(bytes - 2)), 'utf8');

/** The error a call ends with (an Error saying so if it succeeded). */
function failureOf(request$: Observable<unknown>): Promise<unknown> {
  return firstValueFrom(request$).then(
    (res) => new Error(`the call succeeded: ${JSON.stringify((res as { data?: unknown }).data)?.slice(0, 200)}`),
    (err: unknown) => err,
  );
}

/** Runs `fn` with these environment variables set, then restores them. */
async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((name) => [name, process.env[name]]));
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

const credential = newCredential('client-2026-11');
const clients: TestingModule[] = [];

async function createClient(client: SignedHttpClientOptions): Promise<SignedHttpService> {
  const moduleRef = await signingClientModule(clientModuleOptions(credential, upstream.url, client));
  clients.push(moduleRef);
  return moduleRef.get(SignedHttpService);
}

let upstream: RecordingServer;
/** Another origin: anything that reaches it has leaked. */
let elsewhere: RecordingServer;

beforeAll(async () => {
  upstream = await startRecordingServer();
  elsewhere = await startRecordingServer();
});

afterAll(async () => {
  for (const moduleRef of clients) await moduleRef.close();
  await upstream?.close();
  await elsewhere?.close();
});

beforeEach(() => {
  upstream.reset();
  elsewhere.reset();
});

describe.each([
  ['plaintext', false],
  ['encrypted', true],
] as const)('SignedHttpService never follows a redirect (%s)', (_mode, encrypt) => {
  /** Default resilience: idempotent calls are retried. */
  let http: SignedHttpService;
  /** One attempt per call. */
  let once: SignedHttpService;
  const order = { productId: 'P123', quantity: 2 };

  beforeAll(async () => {
    http = await createClient({ encrypt });
    once = await createClient({ encrypt, retry: false, circuitBreaker: false });
  });

  beforeEach(() => upstream.answerWith(redirectTo(307, `${elsewhere.url}/collect`)));

  it.each(REDIRECT_STATUSES)('a %i to another origin is refused with a typed error; nothing reaches that origin', async (status) => {
    upstream.answerWith(redirectTo(status, `${elsewhere.url}/collect`));
    const error = await failureOf(once.post(`${upstream.url}/api/inventory`, order));
    expect(elsewhere.received).toEqual([]);
    expect(upstream.received).toHaveLength(1);
    expect(error).toMatchObject({
      name: 'UpstreamAnswerRefusedError',
      reason: 'upstream_redirect',
      upstream: upstream.url,
      status,
      location: `${elsewhere.url}/collect`,
    });
  });

  it('an idempotent GET, retries on, is sent once: a redirect is neither followed nor retried', async () => {
    const error = await failureOf(http.get(`${upstream.url}/api/inventory/P123`));
    expect(error).toMatchObject({ name: 'UpstreamAnswerRefusedError', reason: 'upstream_redirect', status: 307 });
    expect(elsewhere.received).toEqual([]);
    expect(upstream.received).toHaveLength(1);
  });

  it('a validateStatus that accepts every status does not let a redirect through as an answer', async () => {
    const error = await failureOf(once.post(`${upstream.url}/api/inventory`, order, { validateStatus: () => true }));
    expect(error).toMatchObject({ name: 'UpstreamAnswerRefusedError', reason: 'upstream_redirect', status: 307 });
    expect(elsewhere.received).toEqual([]);
  });

  // Config that would make axios follow: refused before anything is signed or sent, naming the option.
  const followRedirects = createRequire(import.meta.url)('follow-redirects') as { http: unknown };
  it.each([
    ['maxRedirects', { maxRedirects: 5 }],
    ['beforeRedirect', { beforeRedirect: () => undefined }],
    ['transport', { transport: followRedirects.http }],
    ['adapter', { adapter: 'fetch' }],
  ] as const)('a call config setting %s is refused before anything is sent', async (option, config) => {
    const error = await failureOf(once.post(`${upstream.url}/api/inventory`, order, config));
    expect(error).toMatchObject({ name: 'OutgoingRequestRefusedError', reason: 'request_config_unsafe', option });
    expect((error as Error).message).toContain(option);
    expect(upstream.received).toEqual([]);
    expect(elsewhere.received).toEqual([]);
  });

  it('maxRedirects: 0 (what the client does anyway) is accepted', async () => {
    const error = await failureOf(once.post(`${upstream.url}/api/inventory`, order, { maxRedirects: 0 }));
    expect(error).toMatchObject({ reason: 'upstream_redirect' });
    expect(elsewhere.received).toEqual([]);
  });

  it("the shared axios instance's defaults cannot turn following back on: a named adapter is replaced by http, a transport is refused", async () => {
    const defaults = once.axiosRef.defaults;
    const saved = { adapter: defaults.adapter, maxRedirects: defaults.maxRedirects, transport: defaults.transport as unknown };
    try {
      defaults.adapter = 'fetch';
      defaults.maxRedirects = 21;
      const replaced = await failureOf(once.post(`${upstream.url}/api/inventory`, order));
      expect(replaced).toMatchObject({ name: 'UpstreamAnswerRefusedError', reason: 'upstream_redirect', status: 307 });
      expect(upstream.received).toHaveLength(1);

      defaults.transport = followRedirects.http;
      const refused = await failureOf(once.post(`${upstream.url}/api/inventory`, order));
      expect(refused).toMatchObject({ name: 'OutgoingRequestRefusedError', reason: 'request_config_unsafe', option: 'transport' });
      expect(upstream.received).toHaveLength(1);
    } finally {
      Object.assign(defaults, saved);
    }
    expect(elsewhere.received).toEqual([]);
  });

  it('a request interceptor on the shared axios instance cannot turn following back on: refused before sending', async () => {
    const id = once.axiosRef.interceptors.request.use((config) => ({ ...config, maxRedirects: 5 }) as typeof config);
    try {
      const error = await failureOf(once.post(`${upstream.url}/api/inventory`, order));
      expect(error).toMatchObject({ name: 'OutgoingRequestRefusedError', reason: 'request_config_unsafe', option: 'maxRedirects' });
    } finally {
      once.axiosRef.interceptors.request.eject(id);
    }
    expect(upstream.received).toEqual([]);
    expect(elsewhere.received).toEqual([]);
  });
});

describe('SignedHttpService: proxies named by the environment', () => {
  let once: SignedHttpService;
  beforeAll(async () => {
    once = await createClient({ retry: false, circuitBreaker: false });
  });

  it('ignores HTTP_PROXY: a signed call goes straight to its upstream, never to that proxy', async () => {
    upstream.answerWith(answerJson(200, { answeredBy: 'upstream' }));
    const res = await withEnv({ HTTP_PROXY: elsewhere.url, http_proxy: elsewhere.url, NO_PROXY: '', no_proxy: '' }, () =>
      firstValueFrom(once.get(`${upstream.url}/ok`)),
    );
    expect(res.data).toEqual({ answeredBy: 'upstream' });
    expect(elsewhere.received).toEqual([]);
    expect(upstream.received).toHaveLength(1);
  });

  it("honours a proxy the call's own config names (a deliberate choice)", async () => {
    const { port } = new URL(elsewhere.url);
    const res = await firstValueFrom(
      once.get(`${upstream.url}/ok`, { proxy: { protocol: 'http', host: '127.0.0.1', port: Number(port) } }),
    );
    expect(res.data).toEqual({ answeredBy: 'recording-server' });
    expect(elsewhere.received).toHaveLength(1);
    expect(elsewhere.received[0].target).toBe(`${upstream.url}/ok`);
  });
});

describe('SignedHttpService bounds the size of an answer', () => {
  const LIMIT = 64 * KiB;
  /** maxResponseBytes = 64 KiB. */
  let small: SignedHttpService;
  /** The default limit (10 MiB). */
  let byDefault: SignedHttpService;
  /** Same limit, encrypted calls. */
  let smallEncrypted: SignedHttpService;
  const zeros = Buffer.alloc(8 * MiB);
  const bombs: Record<string, Buffer> = {
    gzip: gzipSync(zeros),
    br: brotliCompressSync(zeros),
    deflate: deflateSync(zeros),
  };

  beforeAll(async () => {
    small = await createClient({ maxResponseBytes: LIMIT, retry: false, circuitBreaker: false });
    byDefault = await createClient({ retry: false, circuitBreaker: false });
    smallEncrypted = await createClient({ maxResponseBytes: LIMIT, encrypt: true, retry: false, circuitBreaker: false });
  });

  it('an answer of exactly maxResponseBytes is delivered; one byte more is refused with a typed error', async () => {
    upstream.answerWith(answerBytes(jsonOfSize(LIMIT)));
    const res = await firstValueFrom(small.get(`${upstream.url}/big`));
    expect(res.data).toHaveLength(LIMIT - 2);

    upstream.answerWith(answerBytes(jsonOfSize(LIMIT + 1)));
    const error = await failureOf(small.get(`${upstream.url}/big`));
    expect(error).toMatchObject({
      name: 'UpstreamAnswerRefusedError',
      reason: 'upstream_response_too_large',
      upstream: upstream.url,
      limitBytes: LIMIT,
    });
  });

  it('the same limit applies to the answer of an encrypted call', async () => {
    upstream.answerWith(answerBytes(jsonOfSize(LIMIT + 1), { 'content-type': 'application/jose' }));
    const error = await failureOf(smallEncrypted.get(`${upstream.url}/big`));
    expect(error).toMatchObject({ name: 'UpstreamAnswerRefusedError', reason: 'upstream_response_too_large', limitBytes: LIMIT });
  });

  it('by default an answer over 10 MiB is refused', async () => {
    upstream.answerWith(answerBytes(jsonOfSize(10 * MiB + 1)));
    const error = await failureOf(byDefault.get(`${upstream.url}/big`));
    expect(error).toMatchObject({ name: 'UpstreamAnswerRefusedError', reason: 'upstream_response_too_large', limitBytes: 10 * MiB });
  });

  it.each(Object.keys(bombs))(
    'a %s decompression bomb (small on the wire, 8 MiB decoded) is refused: the limit counts decoded bytes',
    async (encoding) => {
      expect(bombs[encoding].length).toBeLessThan(LIMIT);
      upstream.answerWith(answerBytes(bombs[encoding], { 'content-encoding': encoding }));
      const error = await failureOf(small.get(`${upstream.url}/bomb`));
      expect(error).toMatchObject({ name: 'UpstreamAnswerRefusedError', reason: 'upstream_response_too_large', limitBytes: LIMIT });
    },
  );

  it('a 64 MiB gzip bomb is refused under the default limit', async () => {
    upstream.answerWith(answerBytes(gzipSync(Buffer.alloc(64 * MiB)), { 'content-encoding': 'gzip' }));
    const error = await failureOf(byDefault.get(`${upstream.url}/bomb`));
    expect(error).toMatchObject({ name: 'UpstreamAnswerRefusedError', reason: 'upstream_response_too_large', limitBytes: 10 * MiB });
  });

  it('a compressed answer within the limit is decoded and delivered', async () => {
    upstream.answerWith(answerBytes(gzipSync(Buffer.from('{"ok":true}')), { 'content-encoding': 'gzip' }));
    const res = await firstValueFrom(small.get(`${upstream.url}/small`));
    expect(res.data).toEqual({ ok: true });
  });

  it("a call's own maxContentLength may lower the limit, not raise it", async () => {
    upstream.answerWith(answerBytes(jsonOfSize(2 * KiB)));
    const lowered = await failureOf(small.get(`${upstream.url}/big`, { maxContentLength: KiB }));
    expect(lowered).toMatchObject({ name: 'UpstreamAnswerRefusedError', reason: 'upstream_response_too_large', limitBytes: KiB });
    for (const maxContentLength of [LIMIT + 1, -1]) {
      const raised = await failureOf(small.get(`${upstream.url}/big`, { maxContentLength }));
      expect(raised).toMatchObject({ name: 'OutgoingRequestRefusedError', reason: 'request_config_unsafe', option: 'maxContentLength' });
    }
  });
});

describe('SignedHttpService bounds the size of what it sends', () => {
  let small: SignedHttpService;
  beforeAll(async () => {
    small = await createClient({ maxRequestBytes: KiB, retry: false, circuitBreaker: false });
  });

  it('a body over maxRequestBytes is refused before anything is sent', async () => {
    const error = await failureOf(small.post(`${upstream.url}/api/inventory`, 'x'.repeat(KiB + 1)));
    expect(error).toMatchObject({ name: 'OutgoingRequestRefusedError', reason: 'request_too_large', option: 'maxRequestBytes' });
    expect(upstream.received).toEqual([]);
    // At the limit it goes.
    upstream.answerWith(answerJson(200, { ok: true }));
    await expect(firstValueFrom(small.post(`${upstream.url}/api/inventory`, 'x'.repeat(KiB)))).resolves.toMatchObject({ status: 200 });
  });
});

describe.each([
  ['encrypted', 'on'],
  ['plaintext', 'off'],
] as const)('order-service → a hostile inventory (%s)', (_mode, encryption) => {
  const orderKey = newCredential('order-2026-11');
  let order: INestApplication;
  let orderUrl: string;

  beforeAll(async () => {
    order = await createOrderApp({
      adapter: 'express',
      logger: false,
      env: orderEnv(orderKey, upstream.url, { INVENTORY_ENCRYPTION: encryption }),
    });
    orderUrl = await listenUrl(order);
  });

  afterAll(async () => {
    await order?.close();
  });

  const placeOrder = async () => {
    const res = await fetch(`${orderUrl}/api/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ productId: 'P123', quantity: 2 }),
    });
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    return { status: res.status, body };
  };

  afterEach(() => upstream.answerWith(answerJson(200, { answeredBy: 'recording-server' })));

  it('a 307 to another origin: 502 upstream_redirect, the order reaches nobody else, sent once', async () => {
    upstream.answerWith(redirectTo(307, `${elsewhere.url}/api/inventory`));
    const res = await placeOrder();
    expect(res).toEqual({ status: 502, body: expect.objectContaining({ statusCode: 502, reason: 'upstream_redirect' }) });
    expect(elsewhere.received).toEqual([]);
    expect(upstream.received).toHaveLength(1);
  });

  it('an answer over the size limit: 502 upstream_response_too_large', async () => {
    upstream.answerWith(answerBytes(jsonOfSize(10 * MiB + 1)));
    const res = await placeOrder();
    expect(res).toEqual({ status: 502, body: expect.objectContaining({ statusCode: 502, reason: 'upstream_response_too_large' }) });
  });

  it('a gzip bomb: 502 upstream_response_too_large', async () => {
    upstream.answerWith(answerBytes(gzipSync(Buffer.alloc(32 * MiB)), { 'content-encoding': 'gzip' }));
    const res = await placeOrder();
    expect(res).toEqual({ status: 502, body: expect.objectContaining({ statusCode: 502, reason: 'upstream_response_too_large' }) });
  });
});
