import type { KeyMaterial } from '../keys/key-material.js';
import type { KeyProvider } from '../keys/key-provider.interface.js';
import type { NonceStore } from '../replay/nonce-store.interface.js';
import type { ReplayWindowOptions } from '../replay/replay-window.js';
import type { RetryOptions } from '../client/retry-options.js';
import type { CircuitBreakerOptions } from '../client/circuit-breaker-options.js';
import type { VerificationMetricsOption } from '../metrics/verification-metrics-option.js';

export type EncryptionPolicy = 'required' | 'optional' | 'off';

/**
 * An ioredis client (`new Redis(...)`, ioredis 5 or 6), described by the members the module relies on
 * rather than by ioredis' own type: these declarations must not import the optional peer `ioredis`,
 * or every user's type check would need it installed.
 */
export interface IoredisClient {
  readonly status: string;
  set(...args: unknown[]): Promise<unknown>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
}

/**
 * Nonces in Redis: the module creates a RedisNonceStore whose keys are namespaced by `serviceId`
 * (`${keyPrefix}${serviceId}:${callerId}:${keyId}:${nonce}`), so callees sharing one Redis never
 * see each other's nonces. Needs the optional peer dependency `ioredis`.
 */
export type ReplayRedisOptions = (
  | {
      /** `redis://[user:password@]host:port[/db]` or `rediss://…`. The module owns this client and quits it on shutdown. */
      url: string;
      client?: undefined;
    }
  | {
      /** An existing ioredis client. Never closed by the module; its owner handles its 'error' events. */
      client: IoredisClient;
      url?: undefined;
    }
) & {
  /** Default `'nest-service-auth:nonce:'`. */
  keyPrefix?: string;
  /** Budget for one nonce claim, waiting for the connection included, in ms. Default 250. */
  timeoutMs?: number;
};

export interface ReplayOptions extends ReplayWindowOptions {
  /**
   * Where nonces are remembered. Default: in this process (MemoryNonceStore), right for a single
   * instance only. Replicas need a shared store: set `redis` (or pass a shared store here). Setting
   * both `store` and `redis` is a start-up error.
   */
  store?: NonceStore;
  /** Remember nonces in Redis, shared by every replica of this service. */
  redis?: ReplayRedisOptions;
  /**
   * Live nonces ONE caller may have, in the in-memory store or in Redis (counted over every replica
   * sharing it). A caller at its budget (it sent more than this many requests within max age +
   * future skew + 1 s) gets 429 `nonce_budget_exhausted` with `Retry-After` until its oldest nonce
   * expires; other callers are not affected. Memory is bounded by (configured callers) ×
   * maxNoncesPerCaller × about 70 bytes in memory, about 330 bytes in Redis. Default 1 000 000:
   * about 3 300 requests per second per caller with the default window. Setting it with `store` is a
   * start-up error (that store bounds itself).
   */
  maxNoncesPerCaller?: number;
}

export interface SignedHttpClientOptions {
  /** Per-attempt timeout for outgoing calls, in ms. Default 5000. */
  timeoutMs?: number;
  /**
   * Which upstreams get encrypted bodies (JWE, dir + A256GCM) and are asked for encrypted answers:
   * `true` for all, or a list of upstream ids (e.g. `['inventory-service']`). Default: none.
   */
  encrypt?: boolean | string[];
  /**
   * Automatic retries, with exponential backoff and full jitter, of IDEMPOTENT requests only: GET, HEAD,
   * OPTIONS, PUT, DELETE, and POST/PATCH that carry an `Idempotency-Key` header (which the signature
   * covers). Retried on network errors (ECONNREFUSED, ECONNRESET, socket hang up, …), timeouts
   * (ECONNABORTED/ETIMEDOUT) and 502/503/504; never on any other status. A 503's `Retry-After` is
   * honoured, capped at maxDelayMs. Every attempt is signed afresh (new `created`, new nonce), so a
   * retry is never refused as a replay. An open circuit (UpstreamUnavailableError) is not retried.
   * - `maxAttempts`: attempts in all, the first included (1 = no retry). Default 3.
   * - `baseDelayMs`: the wait before attempt n+1 is uniform in [0, min(maxDelayMs, baseDelayMs * 2^(n-1))). Default 100.
   * - `maxDelayMs`: ceiling of every wait. Default 2000.
   * `false` disables retries. Default: `{ maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 2000 }`.
   */
  retry?: RetryOptions | false;
  /**
   * One circuit breaker per upstream origin (`scheme://host:port`). A call fails (for the breaker) on a
   * network error, a timeout or a 5xx, every retry attempt counting as one call; a 4xx is an answer and
   * resets the count. After `consecutiveFailures` failures in a row the circuit opens: calls to that
   * origin fail at once with UpstreamUnavailableError (`reason: 'circuit_open'`), nothing is sent. After
   * `halfOpenAfterMs` one trial call goes through (concurrent ones wait for it): a success closes the
   * circuit, a failure opens it again.
   * - `consecutiveFailures`: default 5.
   * - `halfOpenAfterMs`: default 10 000.
   * `false` disables the breakers.
   */
  circuitBreaker?: CircuitBreakerOptions | false;
  /**
   * Largest answer accepted from an upstream, in bytes, counted after decompression (so a gzip or
   * brotli bomb stops here). A larger one is refused with UpstreamAnswerRefusedError
   * (`reason: 'upstream_response_too_large'`). A call's `maxContentLength` may lower it, not raise it.
   * Default 10 MiB.
   */
  maxResponseBytes?: number;
  /**
   * Largest body sent, in bytes, as it goes on the wire (the ciphertext, when encrypted). A larger one
   * is not sent: OutgoingRequestRefusedError (`reason: 'request_too_large'`). A call's `maxBodyLength`
   * may lower it, not raise it. Default 10 MiB.
   */
  maxRequestBytes?: number;
}

/**
 * How ServiceAuthGuard is installed:
 * - `'global'` (default): on every HTTP route. A route without @PublicRoute() needs a verified caller;
 *   with no callers configured, every such route is refused (and start-up says so).
 * - `'manual'`: the guard is provided but not registered; the application registers it itself (its
 *   own subclass as APP_GUARD, after its other guards, or with @UseGuards on some controllers).
 * - `'none'`: this service accepts no signed callers at all (a pure caller, or a public edge). The
 *   guard is not installed, and a @TrustedCaller anywhere is a start-up error.
 */
export type GuardInstallation = 'global' | 'manual' | 'none';

export interface LoggingOptions {
  /**
   * Refusals of requests that name no known caller (`api_key_missing`, `api_key_invalid`) logged in
   * full per reason, route and second; the others of that second are counted, and one line at its end says
   * how many (`service_auth_rejected_suppressed`), so that a flood of garbage is not also a flood of
   * log lines. Metrics count every refusal; refusals of known callers are always logged.
   * `Infinity` logs every one. Default 10.
   */
  strangerRefusalsPerSecond?: number;
}

export interface ServiceAuthModuleOptions {
  /**
   * This service's id (e.g. `inventory-service`). Every signature this service accepts must name it
   * as its audience (`tag`), and its callers know it under this id.
   */
  serviceId: string;
  /** Default `'global'`: see GuardInstallation. */
  guard?: GuardInstallation;
  /**
   * Keys held directly in the options. Prefer `keyProvider` (or nothing: the environment is read)
   * so that keys can be reloaded without a restart.
   */
  keys?: KeyMaterial;
  /** Supplies keys at start-up and on `ServiceAuthKeys.reload()`. Default: EnvKeyProvider over process.env. */
  keyProvider?: KeyProvider;
  replay?: ReplayOptions;
  /** Largest request body accepted, in bytes. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Components every inbound signature must cover, beyond the protocol minimum. */
  requiredComponents?: string[];
  /** Default policy for encrypted request bodies on routes without @EncryptedBody(). Default 'optional'. */
  encryption?: EncryptionPolicy;
  client?: SignedHttpClientOptions;
  /**
   * Metrics of every decision of ServiceAuthGuard (see VerificationMetricsOption): `true` for
   * OpenTelemetry through the global MeterProvider (needs @opentelemetry/api), `{ meter }` for a
   * given OpenTelemetry Meter, `{ observer }` for your own VerificationObserver. Default: off.
   * Metric names and attributes: OpenTelemetryVerificationObserver.
   */
  metrics?: VerificationMetricsOption;
  /** What the library logs: see LoggingOptions. */
  logging?: LoggingOptions;
}
