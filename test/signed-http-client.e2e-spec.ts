/**
 * SignedHttpService against a tiny guarded Nest app over real HTTP, on both adapters: what the
 * client signs is what goes on the wire (params serialised by axios, JSON and string bodies), every
 * subscription is signed afresh, and a default timeout applies.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Module,
  Param,
  Post,
  Put,
  Query,
  Req,
  type DynamicModule,
  type INestApplication,
} from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import { AxiosError, type AxiosResponse } from 'axios';
import type { IncomingHttpHeaders } from 'node:http';
import { firstValueFrom, type Observable } from 'rxjs';
import { Caller, ServiceAuthModule, TrustedCaller, type VerifiedCaller } from 'nest-service-auth';
import { SignedHttpService, type SignedHttpClientOptions } from 'nest-service-auth/client';
import { newCredential, type TestCredential } from './support/credentials.js';
import { listenUrl, type Adapter } from './support/demo-services.js';
import { signingClientModule } from './support/signing-client.js';
import { createServiceApp } from 'service-app';

const ADAPTERS: Adapter[] = ['express', 'fastify'];
const CLIENT_TIMEOUT_MS = 300;

/**
 * Calls that reached the slow endpoint, which never answers on its own (it is released when the app
 * closes): a timeout is then the only way a call can end, and the attempts are counted, not timed.
 */
const slowArrivals = {
  count: 0,
  waiting: [] as Array<{ count: number; resolve: () => void }>,
  arrive() {
    this.count += 1;
    for (const w of this.waiting.filter((w) => w.count <= this.count)) w.resolve();
    this.waiting = this.waiting.filter((w) => w.count > this.count);
  },
  /** Resolves once `count` calls have arrived: the last attempt may reach the handler after the caller gave up. */
  reached(count: number): Promise<void> {
    return this.count >= count ? Promise.resolve() : new Promise((resolve) => this.waiting.push({ count, resolve }));
  },
};

/** What the echo handlers read of a request, as both adapters' requests have it. */
interface EchoRequest {
  method: string;
  headers: IncomingHttpHeaders;
  url: string;
  /** Express only. */
  originalUrl?: string;
  /** With the app's rawBody option, on both adapters. */
  rawBody?: unknown;
}

/** What the echo handlers answer, each some of these. */
interface EchoAnswer {
  method: string;
  caller: VerifiedCaller;
  query: Record<string, unknown>;
  target?: string;
  id?: string;
  body?: unknown;
  contentType?: string;
  raw?: string | null;
}

/** The raw request target as it arrived (Express keeps it in originalUrl, Fastify in url). */
const targetOf = (req: EchoRequest): string => req.originalUrl ?? req.url;

@Controller('echo')
@TrustedCaller('client-service')
class EchoController {
  private readonly pending = new Set<() => void>();

  @Get()
  get(@Caller() caller: VerifiedCaller, @Query() query: Record<string, unknown>, @Req() req: EchoRequest) {
    return { method: req.method, caller, query, target: targetOf(req) };
  }

  @Get('slow')
  slow() {
    return this.later({ slow: true });
  }

  @Post('slow')
  @HttpCode(200)
  slowPost() {
    return this.later({ slow: true });
  }

  private later(value: unknown): Promise<unknown> {
    slowArrivals.arrive();
    return new Promise((resolve) => this.pending.add(() => resolve(value)));
  }

  @Post()
  @HttpCode(200)
  post(@Caller() caller: VerifiedCaller, @Query() query: Record<string, unknown>, @Body() body: unknown, @Req() req: EchoRequest) {
    return { method: req.method, caller, query, body, contentType: req.headers['content-type'], target: targetOf(req) };
  }

  @Put()
  put(@Caller() caller: VerifiedCaller, @Req() req: EchoRequest) {
    // The exact bytes received (what the signature's digest was checked against).
    return {
      method: req.method,
      caller,
      raw: Buffer.isBuffer(req.rawBody) ? req.rawBody.toString('utf8') : null,
      contentType: req.headers['content-type'],
    };
  }

  @Delete(':id')
  remove(@Caller() caller: VerifiedCaller, @Param('id') id: string, @Query() query: Record<string, unknown>, @Req() req: EchoRequest) {
    return { method: req.method, caller, id, query, target: targetOf(req) };
  }

  onModuleDestroy() {
    for (const finish of this.pending) finish();
    this.pending.clear();
  }
}

@Module({})
class EchoServerModule {
  static forRoot(callerKey: TestCredential): DynamicModule {
    return {
      module: EchoServerModule,
      imports: [
        ServiceAuthModule.forRoot({
          serviceId: 'echo-service',
          keys: { callers: [{ id: 'client-service', keys: [{ id: callerKey.id, apiKey: callerKey.apiKey, secret: callerKey.secret }] }] },
        }),
      ],
      controllers: [EchoController],
    };
  }
}

function createEchoApp(adapter: Adapter, callerKey: TestCredential): Promise<INestApplication> {
  return createServiceApp(EchoServerModule.forRoot(callerKey), { adapter, logger: false });
}

describe.each(ADAPTERS)('SignedHttpService → guarded Nest app (%s)', (adapter) => {
  const clientKey = newCredential('client-2026-11');
  let server: INestApplication;
  let baseUrl: string;
  const clients: TestingModule[] = [];
  /** Default resilience (retries of idempotent calls, circuit breaker), timeoutMs = CLIENT_TIMEOUT_MS. */
  let http: SignedHttpService;
  /** Same credential and timeout, no retry and no breaker: one attempt per call. */
  let once: SignedHttpService;

  async function createClient(client: SignedHttpClientOptions): Promise<SignedHttpService> {
    const moduleRef = await signingClientModule({
      serviceId: 'client-service',
      keys: {
        upstreams: [{ id: 'echo-service', url: baseUrl, keys: [{ id: clientKey.id, apiKey: clientKey.apiKey, secret: clientKey.secret }] }],
      },
      ...client,
    });
    clients.push(moduleRef);
    return moduleRef.get(SignedHttpService);
  }

  beforeAll(async () => {
    server = await createEchoApp(adapter, clientKey);
    baseUrl = await listenUrl(server);
    http = await createClient({ timeoutMs: CLIENT_TIMEOUT_MS });
    once = await createClient({ timeoutMs: CLIENT_TIMEOUT_MS, retry: false, circuitBreaker: false });
  });

  afterAll(async () => {
    for (const moduleRef of clients) await moduleRef.close();
    await server?.close();
  });

  /** The error a call to the slow endpoint ends with, and how many attempts reached the endpoint. */
  async function failure(request$: Observable<unknown>, expectedAttempts: number): Promise<{ error: AxiosError; attempts: number }> {
    const before = slowArrivals.count;
    const error = await firstValueFrom(request$).then(
      () => new Error('the call succeeded'),
      (err: unknown) => err,
    );
    if (!(error instanceof AxiosError)) throw error;
    await slowArrivals.reached(before + expectedAttempts);
    return { error, attempts: slowArrivals.count - before };
  }

  const expectCaller = (caller: VerifiedCaller) =>
    expect(caller).toEqual({ id: 'client-service', keyId: clientKey.id, nonce: expect.any(String), created: expect.any(Number) });

  it('GET with axios params (spaces, unicode, reserved characters) is verified, and the server parses the same values', async () => {
    const params = { q: 'hello world', u: 'żółć – 日本 ✓', sym: "it's (a) *test*! ~ & = ? / #", plus: '1+1', empty: '' };
    const res = await firstValueFrom(http.get<EchoAnswer>(`${baseUrl}/echo`, { params }));
    expect(res.status).toBe(200);
    expectCaller(res.data.caller);
    expect(res.data.method).toBe('GET');
    expect(res.data.query).toEqual(params);
    // What axios would put on the wire is what arrived (and so what was signed).
    const expected = new URL(http.axiosRef.getUri({ url: `${baseUrl}/echo`, params }));
    expect(res.data.target).toBe(expected.pathname + expected.search);
  });

  it('GET with repeated keys (URLSearchParams, and arrays with paramsSerializer indexes: null) is verified', async () => {
    const search = new URLSearchParams([
      ['tag', 'a'],
      ['tag', 'b c'],
      ['tag', 'ü'],
      ['one', '1'],
    ]);
    const viaSearch = await firstValueFrom(http.get<EchoAnswer>(`${baseUrl}/echo`, { params: search }));
    expect(viaSearch.status).toBe(200);
    expect(viaSearch.data.query).toEqual({ tag: ['a', 'b c', 'ü'], one: '1' });

    const viaArray = await firstValueFrom(
      http.get<EchoAnswer>(`${baseUrl}/echo`, { params: { tag: ['a', 'b c', 'ü'], one: 1 }, paramsSerializer: { indexes: null } }),
    );
    expect(viaArray.status).toBe(200);
    expect(viaArray.data.query).toEqual({ tag: ['a', 'b c', 'ü'], one: '1' });
  });

  it("GET with axios' default array serialisation (tag[]=…) and params merged into an existing query is verified", async () => {
    const res = await firstValueFrom(http.get<EchoAnswer>(`${baseUrl}/echo?fixed=x%20y`, { params: { tag: ['a', 'b'], n: 2 } }));
    expect(res.status).toBe(200);
    expectCaller(res.data.caller);
    expect(res.data.query.fixed).toBe('x y');
    expect(res.data.query.n).toBe('2');
    expect(res.data.target).toMatch(/^\/echo\?fixed=x%20y&/);
  });

  it('POST JSON is signed over the exact bytes sent and parsed by the server', async () => {
    const body = { productId: 'P123', quantity: 2, note: 'ünïcödé ✓', nested: { list: [1, 2, 3], ok: true } };
    const res = await firstValueFrom(http.post<EchoAnswer>(`${baseUrl}/echo`, body, { params: { dry: 'no' } }));
    expect(res.status).toBe(200);
    expectCaller(res.data.caller);
    expect(res.data).toMatchObject({ method: 'POST', body, query: { dry: 'no' } });
    expect(res.data.contentType).toMatch(/^application\/json/);
  });

  it('POST with a caller-chosen content type and extra headers (idempotency-key is covered) is verified', async () => {
    const res = await firstValueFrom(
      http.post<EchoAnswer>(
        `${baseUrl}/echo`,
        { a: 1 },
        { headers: { 'Content-Type': 'application/json; charset=utf-8', 'Idempotency-Key': 'order-42' } },
      ),
    );
    expect(res.status).toBe(200);
    expect(res.data.body).toEqual({ a: 1 });
  });

  it('PUT with a string body is sent as text/plain and its exact bytes are verified', async () => {
    const text = 'plain text body – ünïcödé ✓\nsecond line';
    const res = await firstValueFrom(http.put<EchoAnswer>(`${baseUrl}/echo`, text));
    expect(res.status).toBe(200);
    expectCaller(res.data.caller);
    expect(res.data.method).toBe('PUT');
    expect(res.data.raw).toBe(text);
    expect(res.data.contentType).toBe('text/plain; charset=utf-8');
  });

  it('DELETE (no body) with a path parameter and a query is verified', async () => {
    const res = await firstValueFrom(http.delete<EchoAnswer>(`${baseUrl}/echo/item-7`, { params: { reason: 'sold out' } }));
    expect(res.status).toBe(200);
    expectCaller(res.data.caller);
    expect(res.data).toMatchObject({ method: 'DELETE', id: 'item-7', query: { reason: 'sold out' } });
  });

  it('each subscription is signed afresh: the same Observable subscribed twice succeeds twice, with different nonces', async () => {
    const request$ = http.post<EchoAnswer>(`${baseUrl}/echo`, { same: 'request' });
    const first = await firstValueFrom(request$);
    const second = await firstValueFrom(request$);
    expect([first.status, second.status]).toEqual([200, 200]);
    expectCaller(first.data.caller);
    expectCaller(second.data.caller);
    expect(second.data.caller.nonce).not.toBe(first.data.caller.nonce);

    // Concurrent subscriptions too.
    const get$ = http.get<EchoAnswer>(`${baseUrl}/echo`);
    const answers: AxiosResponse<EchoAnswer>[] = await Promise.all([firstValueFrom(get$), firstValueFrom(get$), firstValueFrom(get$)]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(new Set(answers.map((a) => a.data.caller.nonce)).size).toBe(3);
  });

  it(`a default timeout applies (timeoutMs ${CLIENT_TIMEOUT_MS} ms, the endpoint never answers): an error, not a hang`, async () => {
    const { error, attempts } = await failure(once.get(`${baseUrl}/echo/slow`), 1);
    expect(error.code).toBe('ECONNABORTED');
    expect(error.config?.timeout).toBe(CLIENT_TIMEOUT_MS);
    expect(error.message).toBe(`timeout of ${CLIENT_TIMEOUT_MS}ms exceeded`);
    expect(attempts).toBe(1);
  });

  it('a per-request timeout overrides the default', async () => {
    const { error, attempts } = await failure(once.get(`${baseUrl}/echo/slow`, { timeout: 50 }), 1);
    expect(error.code).toBe('ECONNABORTED');
    expect(error.config?.timeout).toBe(50);
    expect(attempts).toBe(1);
  });

  it('with the default retries, a non-idempotent POST times out after one attempt', async () => {
    const { error, attempts } = await failure(http.post(`${baseUrl}/echo/slow`, { once: true }), 1);
    expect(error.code).toBe('ECONNABORTED');
    expect(error.config?.timeout).toBe(CLIENT_TIMEOUT_MS);
    expect(attempts).toBe(1);
  });

  it('with the default retries, a timing-out GET is retried (3 attempts of timeoutMs each) and still ends in an error, not a hang', async () => {
    const { error, attempts } = await failure(http.get(`${baseUrl}/echo/slow`), 3);
    expect(error.code).toBe('ECONNABORTED');
    expect(error.config?.timeout).toBe(CLIENT_TIMEOUT_MS);
    expect(attempts).toBe(3);
    // Three failures do not open the circuit (five do), and a success resets the count.
    expect((await firstValueFrom(http.get(`${baseUrl}/echo`))).status).toBe(200);
  });

  it('a request the server must refuse still reaches it signed: an unsigned one is 401 (sanity check of the guard)', async () => {
    const res = await fetch(`${baseUrl}/echo`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { reason: string }).reason).toBe('api_key_missing');
  });
});
