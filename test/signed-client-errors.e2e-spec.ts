/**
 * What an error from SignedHttpService carries: it ends up in logs, error trackers and HTTP answers
 * of careless handlers, so it must hold nothing that lets its reader act as the caller. An axios
 * error holds the whole request (config: headers and body; request: the socket's header block) — the
 * API key, the signature and its nonce, the body. When the request never reached the upstream (a
 * refused connection, a timeout before the upstream read it), that nonce is unused: anyone reading
 * the log could replay the call within the replay window.
 *
 * Every kind of failure, plaintext and encrypted: serialised as loggers do (JSON, util.inspect, the
 * cause of a wrapping error), none of the API key, the signature or its parameters, the body digest
 * or the body may appear. What a user needs to handle the failure stays: status, answer, code,
 * method, URL (origin and path).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { TestingModule } from '@nestjs/testing';
import { isAxiosError, type AxiosError } from 'axios';
import { inspect } from 'node:util';
import { randomBytes } from 'node:crypto';
import { firstValueFrom, type Observable } from 'rxjs';
import { SignedHttpService, UpstreamHttpError, UpstreamUnavailableError, type SignedHttpClientOptions } from 'nest-service-auth/client';
import { startCallee, type CalleeApp } from './support/callee-app.js';
import { newCredential } from './support/credentials.js';
import type { Adapter } from './support/demo-services.js';
import { answerJson, startRecordingServer, type RecordingServer } from './support/recording-server.js';
import { signingClientModule } from './support/signing-client.js';

const ADAPTERS: Adapter[] = ['express', 'fastify'];
const credential = newCredential('client-2026-11');
const clients: TestingModule[] = [];
/** Every request that reached an upstream; their signatures are secrets too. */
const upstreams: RecordingServer[] = [];

async function createClient(upstreamUrl: string, client: SignedHttpClientOptions): Promise<SignedHttpService> {
  const moduleRef = await signingClientModule({
    serviceId: 'client-service',
    keys: {
      upstreams: [
        {
          id: 'inventory-service',
          url: upstreamUrl,
          keys: [{ id: credential.id, apiKey: credential.apiKey, secret: credential.secret }],
        },
      ],
    },
    timeoutMs: 300,
    ...client,
  });
  clients.push(moduleRef);
  return moduleRef.get(SignedHttpService);
}

async function upstream(status: number, body: unknown): Promise<RecordingServer> {
  const server = await startRecordingServer(answerJson(status, body));
  upstreams.push(server);
  return server;
}

/** An origin where nothing listens: a server started, then closed. */
async function closedOrigin(): Promise<string> {
  const server = await startRecordingServer();
  await server.close();
  return server.url;
}

/** An upstream that reads the request and never answers. */
async function silentUpstream(): Promise<RecordingServer> {
  const server = await startRecordingServer(() => undefined);
  upstreams.push(server);
  return server;
}

function failureOf(request$: Observable<unknown>): Promise<unknown> {
  return firstValueFrom(request$).then(
    () => new Error('the call succeeded'),
    (err: unknown) => err,
  );
}

/** The failure of a call that must fail with an axios error (CanceledError is one); any other fails the test. */
async function axiosFailureOf(request$: Observable<unknown>): Promise<AxiosError<unknown>> {
  const error = await failureOf(request$);
  if (!isAxiosError<unknown>(error)) throw new Error(`expected an axios error, got ${inspect(error)}`);
  return error;
}

/** The ways an error reaches a log: JSON (toJSON for axios errors), util.inspect (console, Nest's Logger), and the same for its cause. */
function serialisations(error: unknown): string[] {
  const seen = [JSON.stringify(error), inspect(error, { depth: 8 })];
  const cause = (error as { cause?: unknown } | null | undefined)?.cause;
  if (cause) seen.push(JSON.stringify(cause), inspect(cause, { depth: 8 }));
  if (isAxiosError(error))
    seen.push(JSON.stringify(error.toJSON()), inspect(error.config, { depth: 8 }), inspect(error.request, { depth: 8 }));
  return seen;
}

/** A body marker that is nowhere else: it must not appear in any error. */
const secretOrder = () => ({ productId: `P-${randomBytes(12).toString('hex')}`, quantity: 1 });

/** None of the API key, the signatures received, any signature or digest, the body (or its ciphertext). */
function expectNothingSecret(error: unknown, body: { productId: string }): void {
  const received = upstreams.flatMap((server) => server.received);
  const signatures = received
    .flatMap((req) => [req.headers['signature'], req.headers['signature-input'], req.headers['content-digest']])
    .filter((v): v is string => typeof v === 'string');
  const ciphertexts = received.map((req) => req.body.toString('latin1')).filter((text) => text.startsWith('eyJ'));
  for (const text of serialisations(error)) {
    expect(text).not.toContain(credential.apiKey);
    expect(text).not.toContain(credential.secret);
    expect(text).not.toContain(body.productId);
    for (const value of [...signatures, ...ciphertexts]) expect(text).not.toContain(value);
    // Also for a request that reached no one: no signature, no signature parameters (nonce), no digest, no JWE.
    expect(text).not.toMatch(/sig1=|nonce=|sha-256=|sha-512=|eyJ[\w-]{10,}\./);
    // The body as bytes (JSON shows a Buffer as its list of bytes, inspect as hex).
    expect(text).not.toMatch(/"type":"Buffer"|<Buffer/);
  }
}

afterAll(async () => {
  for (const moduleRef of clients) await moduleRef.close();
  for (const server of upstreams) await server.close();
});

describe.each([
  ['plaintext', false],
  ['encrypted', true],
] as const)('errors from SignedHttpService carry no credential, signature or body (%s)', (_mode, encrypt) => {
  it('connection refused (the nonce was never used): code, method and URL kept', async () => {
    const origin = await closedOrigin();
    const http = await createClient(origin, { encrypt, retry: false, circuitBreaker: false });
    const body = secretOrder();
    const error = await axiosFailureOf(
      http.post(`${origin}/api/inventory?order=${body.productId}`, body, { headers: { 'idempotency-key': 'k-1' } }),
    );
    expect({ code: error.code, method: error.config?.method, url: error.config?.url }).toEqual({
      code: 'ECONNREFUSED',
      method: 'post',
      url: `${origin}/api/inventory`,
    });
    // "The request was made but no answer came back", as axios' documentation tells users to test it.
    expect(error.request).toBeTruthy();
    expect(error.response).toBeUndefined();
    expectNothingSecret(error, body);
  });

  it('timeout: the upstream read the request and never answered', async () => {
    const server = await silentUpstream();
    const http = await createClient(server.url, { encrypt, retry: false, circuitBreaker: false, timeoutMs: 200 });
    const body = secretOrder();
    const error = await axiosFailureOf(http.post(`${server.url}/api/inventory`, body));
    expect(server.received).toHaveLength(1);
    expect({ code: error.code, method: error.config?.method }).toEqual({ code: 'ECONNABORTED', method: 'post' });
    expectNothingSecret(error, body);
  });

  it('cancelled by the caller (AbortSignal) after the upstream read the request: CanceledError', async () => {
    const server = await silentUpstream();
    const http = await createClient(server.url, { encrypt, retry: false, circuitBreaker: false, timeoutMs: 5000 });
    const body = secretOrder();
    const controller = new AbortController();
    const pending = axiosFailureOf(http.post(`${server.url}/api/inventory`, body, { signal: controller.signal }));
    while (server.received.length === 0) await new Promise((resolve) => setImmediate(resolve));
    controller.abort();
    const error = await pending;
    expect({ name: error.name, code: error.code }).toEqual({ name: 'CanceledError', code: 'ERR_CANCELED' });
    expectNothingSecret(error, body);
  });

  it.each([400, 403, 409, 500, 502])('%i answer: an UpstreamHttpError, status and answer kept', async (status) => {
    const server = await upstream(status, { reason: `refused_${status}` });
    const http = await createClient(server.url, { encrypt, retry: false, circuitBreaker: false });
    const body = secretOrder();
    const error = await axiosFailureOf(http.put(`${server.url}/api/inventory/P1`, body));
    expect(server.received).toHaveLength(1);
    expect({
      status: error.response?.status,
      data: error.response?.data,
      code: error.code,
      method: error.config?.method,
      url: error.config?.url,
    }).toEqual({
      status,
      data: { reason: `refused_${status}` },
      code: status < 500 ? 'ERR_BAD_REQUEST' : 'ERR_BAD_RESPONSE',
      method: 'put',
      url: `${server.url}/api/inventory/P1`,
    });
    expect(error).toBeInstanceOf(UpstreamHttpError);
    expect(error).toMatchObject({
      name: 'UpstreamHttpError',
      status,
      reason: `refused_${status}`,
      upstreamId: 'inventory-service',
      keyId: credential.id,
      upstream: server.url,
    });
    expect(error.message).toBe(
      `Upstream inventory-service answered ${status} refused_${status} to PUT /api/inventory/P1 (signed with key ${credential.id})`,
    );
    expectNothingSecret(error, body);
  });

  it('503 after every retry: the last attempt’s error', async () => {
    const server = await upstream(503, { reason: 'overloaded' });
    const http = await createClient(server.url, {
      encrypt,
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 },
      circuitBreaker: false,
    });
    const body = secretOrder();
    const error = await axiosFailureOf(http.put(`${server.url}/api/inventory/P1`, body));
    expect(server.received).toHaveLength(3);
    expect(error.response?.status).toBe(503);
    expectNothingSecret(error, body);
  });

  it('circuit open after refused connections: UpstreamUnavailableError, and its cause, carry nothing secret', async () => {
    const origin = await closedOrigin();
    const http = await createClient(origin, { encrypt, retry: false, circuitBreaker: { consecutiveFailures: 2, halfOpenAfterMs: 60_000 } });
    const body = secretOrder();
    const failures = [];
    for (let i = 0; i < 3; i++) failures.push(await failureOf(http.post(`${origin}/api/inventory`, body)));
    const [first, second, open] = failures;
    expect(open).toBeInstanceOf(UpstreamUnavailableError);
    const cause = (open as UpstreamUnavailableError).cause;
    expect(isAxiosError(cause)).toBe(true);
    expect((cause as AxiosError).code).toBe('ECONNREFUSED');
    for (const error of [first, second, open]) expectNothingSecret(error, body);
  });

  it('circuit open after 5xx answers: the cause keeps the status', async () => {
    const server = await upstream(500, { reason: 'broken' });
    const http = await createClient(server.url, {
      encrypt,
      retry: false,
      circuitBreaker: { consecutiveFailures: 2, halfOpenAfterMs: 60_000 },
    });
    const body = secretOrder();
    const failures = [];
    for (let i = 0; i < 3; i++) failures.push(await failureOf(http.post(`${server.url}/api/inventory`, body)));
    const open = failures[2];
    expect(open).toBeInstanceOf(UpstreamUnavailableError);
    const cause = (open as UpstreamUnavailableError).cause as AxiosError | undefined;
    expect(cause?.response?.status).toBe(500);
    for (const error of failures) expectNothingSecret(error, body);
  });
});

describe.each(ADAPTERS)('a refusal by a nest-service-auth upstream is an UpstreamHttpError a caller can act on (%s)', (adapter) => {
  let callee: CalleeApp;
  const known = newCredential('client-2026-11');

  beforeAll(async () => {
    callee = await startCallee(adapter, { serviceId: 'inventory-service', keys: { callers: [{ id: 'client-service', keys: [known] }] } }, [
      'client-service',
    ]);
  });

  afterAll(async () => {
    await callee.close();
  });

  it('a secret the upstream does not hold: 401 signature_invalid, naming the upstream and the key id, and nothing secret', async () => {
    const wrongSecret = { ...known, secret: newCredential('client-2026-11').secret };
    const moduleRef = await signingClientModule({
      serviceId: 'client-service',
      keys: { upstreams: [{ id: 'inventory-service', url: callee.url, keys: [wrongSecret] }] },
      retry: false,
      circuitBreaker: false,
    });
    clients.push(moduleRef);
    const http = moduleRef.get(SignedHttpService);
    const body = { productId: `P-${randomBytes(12).toString('hex')}`, quantity: 1 };
    const error = await failureOf(http.post(`${callee.url}/echo`, body));
    expect(error).toBeInstanceOf(UpstreamHttpError);
    expect(error).toMatchObject({ status: 401, reason: 'signature_invalid', upstreamId: 'inventory-service', keyId: known.id });
    for (const text of serialisations(error)) {
      expect(text).not.toContain(known.apiKey);
      expect(text).not.toContain(wrongSecret.secret);
      expect(text).not.toContain(body.productId);
      expect(text).not.toMatch(/sig1=|nonce=/);
    }
  });
});
