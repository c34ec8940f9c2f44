import { prepareRequest } from '../client/outgoing-request.js';
import { generateCredential } from '../keys/generate-credential.js';
import type { CallerDefinition, UpstreamDefinition } from '../keys/key-material.js';
import { encryptionKeyOf, KeyRing, type ResolvedKey } from '../keys/key-ring.js';
import { calleeEnvironment, callerEnvironment } from '../keys/pair-environment.js';
import { readAnswer, type TestAnswer, type TestResponse } from './test-response.js';
import { openTarget, type TestTarget } from './test-target.js';
import { combineEnv } from './combine-env.js';

/** A credential as it is configured: key id, API key, secret (base64 or base64url text). */
export interface TestCredential {
  readonly id: string;
  readonly apiKey: string;
  readonly secret: string;
}

export interface TestCallerOptions {
  /** The `serviceId` of the service under test: every request is signed for it. */
  audience: string;
  /** Encrypt request bodies (JWE) and ask for encrypted answers, as SignedHttpModule's `encrypt` does. Each request may say otherwise. */
  encrypt?: boolean;
  /** A credential to use instead of a fresh one, e.g. one the application under test already loads. */
  credential?: TestCredential;
}

export interface TestRequestOptions {
  /** Further headers to send (and cover when they carry meaning, e.g. `idempotency-key`). */
  headers?: Record<string, string>;
  /** Overrides the caller's `encrypt` for this request. */
  encrypt?: boolean;
}

/** One request, signed and ready to send with any HTTP client: exactly these headers and these bytes. */
export interface PreparedTestRequest {
  readonly method: string;
  /** The path and query that were signed: send exactly this. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The bytes to send (the compact JWE when encrypted); undefined without a body. */
  readonly body: Buffer | undefined;
  /** The signature's nonce: an encrypted answer must carry it. */
  readonly nonce: string;
  readonly encrypted: boolean;
  /** Reads the answer to this request: JSON parsed, an encrypted answer opened and checked. */
  read(answer: TestAnswer): TestResponse;
}

/** Only the URL's path and query are signed; the origin is that of whatever receives the request. */
const SIGNING_ORIGIN = 'http://service-under-test.invalid';

/**
 * A service calling the service under test, for that service's own end-to-end tests: a throwaway
 * credential for the pair, the configuration the service under test needs to accept it, and signed
 * (optionally encrypted) requests for any HTTP client.
 *
 *   const caller = testCaller('order-service', { audience: 'inventory-service' });
 *   // ServiceAuthModule.forRoot({ serviceId: 'inventory-service', keys: { callers: [caller.asCaller()] } })
 *   const res = await caller.fetch(app, 'POST', '/api/inventory', { productId: 'P123', quantity: 2 });
 */
export class TestCaller {
  /** The caller's service id: what `@Caller()` reports and `@TrustedCaller()` names. */
  readonly id: string;
  readonly audience: string;
  readonly credential: TestCredential;
  private readonly key: ResolvedKey;
  private readonly encrypt: boolean;

  /** @internal Use testCaller(). */
  constructor(callerId: string, options: TestCallerOptions) {
    if (typeof options?.audience !== 'string' || options.audience === '') {
      throw new TypeError('testCaller needs options.audience: the serviceId of the service under test');
    }
    const { id, apiKey, secret } = options.credential ?? generateCredential(callerId);
    this.id = callerId;
    this.audience = options.audience;
    this.credential = Object.freeze({ id, apiKey, secret });
    this.encrypt = options.encrypt ?? false;
    // Resolved the way the caller's own key ring would: same checks, same derived keys.
    this.key = KeyRing.from({ upstreams: [this.asUpstream(SIGNING_ORIGIN)] }, callerId).upstream(this.audience)!.keys[0];
  }

  /** For the service under test: `keys: { callers: [caller.asCaller()] }`. */
  asCaller(): CallerDefinition {
    return { id: this.id, keys: [{ ...this.credential }] };
  }

  /** For a caller's configuration, when the calling side is under test: `keys: { upstreams: [caller.asUpstream(url)] }`. */
  asUpstream(url: string): UpstreamDefinition {
    return { id: this.audience, url, keys: [{ ...this.credential }] };
  }

  /**
   * The variables the service under test reads to accept this caller: SERVICE_AUTH_CALLERS (this id
   * alone) and SERVICE_AUTH_CALLER_<ID>_KEYS. For several callers, `testCallers(a, b).env()` or
   * `combineEnv(a.env(), b.env())`: merging with `{ ...a.env(), ...b.env() }` keeps only b in the list.
   */
  env(prefix?: string): Record<string, string> {
    return calleeEnvironment(this.id, [this.credential], prefix);
  }

  /** The calling side's variables for this pair: SERVICE_AUTH_UPSTREAMS, SERVICE_AUTH_UPSTREAM_<ID>_URL and _KEYS. */
  upstreamEnv(url: string, prefix?: string): Record<string, string> {
    return callerEnvironment(this.audience, url, [this.credential], prefix);
  }

  /**
   * The headers that sign one plaintext request, for any client (supertest: `.set(headers).send(body)`).
   * An object body is signed as its JSON (what supertest and `JSON.stringify` send); a string as text.
   * For an encrypted request use prepare(), whose body is the JWE to send.
   */
  sign(method: string, pathWithQuery: string, body?: unknown, headers?: Record<string, string>): Record<string, string> {
    return { ...this.prepare(method, pathWithQuery, body, { headers, encrypt: false }).headers };
  }

  /** One request, signed (and encrypted, per `encrypt`), with its exact bytes and a reader for its answer. */
  prepare(method: string, pathWithQuery: string, body?: unknown, options: TestRequestOptions = {}): PreparedTestRequest {
    return this.prepareFor(SIGNING_ORIGIN, method, pathWithQuery, body, options);
  }

  /**
   * Sends one signed request with the global `fetch` and reads the answer. `target` is a base URL, a
   * Node.js HTTP server, or a Nest application (listening, or just `init()`ed: it then listens on a
   * free port for this request, as with supertest). Redirects are not followed.
   */
  async fetch(
    target: TestTarget,
    method: string,
    pathWithQuery: string,
    body?: unknown,
    options: TestRequestOptions = {},
  ): Promise<TestResponse> {
    const open = await openTarget(target);
    try {
      const request = this.prepareFor(open.baseUrl, method, pathWithQuery, body, options);
      const answer = await globalThis.fetch(new URL(request.path, open.baseUrl), {
        method: request.method,
        headers: request.headers,
        body: request.body,
        redirect: 'manual',
      });
      return request.read({ status: answer.status, headers: answer.headers, text: await answer.text() });
    } finally {
      await open.release();
    }
  }

  private prepareFor(
    baseUrl: string,
    method: string,
    pathWithQuery: string,
    body: unknown,
    options: TestRequestOptions,
  ): PreparedTestRequest {
    if (typeof pathWithQuery !== 'string' || !pathWithQuery.startsWith('/'))
      throw new TypeError(`A test request path starts with "/", got ${JSON.stringify(pathWithQuery)}`);
    const base = new URL(baseUrl);
    const url = new URL(`${base.pathname.replace(/\/+$/, '')}${pathWithQuery}`, base);
    const path = url.pathname + url.search;
    // The signature covers the target as the URL parser writes it; a client sending the original would be refused.
    if (!path.endsWith(pathWithQuery)) {
      throw new TypeError(`${JSON.stringify(pathWithQuery)} is written ${JSON.stringify(path)} by a URL parser: sign and send that form`);
    }
    const headers = Object.fromEntries(Object.entries(options.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]));
    const encrypted = options.encrypt ?? this.encrypt;
    const prepared = prepareRequest({ method: method.toUpperCase(), url: url.href, headers, data: body }, this.key, encrypted);
    const key = this.key;
    return {
      method: method.toUpperCase(),
      path,
      headers: prepared.headers,
      body: prepared.body,
      nonce: prepared.nonce,
      encrypted,
      read: (answer) =>
        readAnswer(answer, { nonce: prepared.nonce, encrypted }, (kid) => (kid === key.id ? encryptionKeyOf(key) : undefined)),
    };
  }
}

/**
 * A test caller named `callerId`, for the service under test `options.audience`, with a fresh
 * credential (or `options.credential`).
 */
export function testCaller(callerId: string, options: TestCallerOptions): TestCaller {
  return new TestCaller(callerId, options);
}

/** Several test callers of one service under test, configured together: see testCallers(). */
export interface TestCallers {
  readonly callers: readonly TestCaller[];
  /** `keys: { callers: group.asCallers() }`: every caller, for the service under test. */
  asCallers(): CallerDefinition[];
  /** The variables that accept every caller: SERVICE_AUTH_CALLERS lists them all (see combineEnv). */
  env(prefix?: string): Record<string, string>;
}

/**
 * Test callers configured together: `testCallers(order, audit).env()` accepts both, where two
 * `env()` spread into one object would keep only the last caller's SERVICE_AUTH_CALLERS.
 */
export function testCallers(...callers: TestCaller[]): TestCallers {
  if (callers.length === 0) throw new TypeError('testCallers needs at least one test caller');
  const ids = callers.map((caller) => caller.id);
  const repeated = ids.find((id, i) => ids.indexOf(id) !== i);
  if (repeated !== undefined) throw new TypeError(`testCallers: "${repeated}" is given twice; each caller needs its own id`);
  return {
    callers,
    asCallers: () => callers.map((caller) => caller.asCaller()),
    env: (prefix?: string) => combineEnv(...callers.map((caller) => caller.env(prefix))),
  };
}
