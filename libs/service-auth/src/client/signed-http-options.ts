import type { KeyMaterial } from '../keys/key-material.js';
import type { KeyProvider } from '../keys/key-provider.interface.js';
import type { CircuitBreakerOptions } from './circuit-breaker-options.js';
import type { RetryOptions } from './retry-options.js';

/** How SignedHttpService calls its upstreams. */
export interface SignedHttpClientOptions {
  /** Per-attempt timeout for outgoing calls, in ms. Default 5000. */
  timeoutMs?: number;
  /**
   * Which upstreams get encrypted bodies (JWE, dir + A256GCM; ECDH-ES over X25519 for an ed25519 pair)
   * and are asked for encrypted answers: `true` for all, or a list of upstream ids (e.g.
   * `['inventory-service']`). Default: none. An ed25519 pair's answer is sealed to the ephemeral key of
   * the request body, so a request without a body asks for none (its answer comes back signed).
   */
  encrypt?: boolean | string[];
  /**
   * Which upstreams the signature also binds to the host the call is addressed to (`@authority`):
   * `true` for all, or a list of upstream ids. Turn it on for a callee that routes by host
   * (host-scoped controllers), so that a request signed for one host cannot run on another.
   * Caveat: the callee verifies the Host it receives, so a proxy or gateway between the two that
   * rewrites Host (to an internal name, a load balancer's) makes every such signature fail; the
   * upstream's configured URL must name the host the callee sees. Default: false.
   */
  coverAuthority?: boolean | string[];
  /**
   * Which upstreams' answers must carry a valid RFC 9421 response signature bound to the request
   * (PROTOCOL.md §9). Every answer handed to the application as a response is checked;
   * an unsigned, tampered or other-request answer is refused with UpstreamAnswerRefusedError
   * (`answer_unsigned`, `answer_signature_invalid`). Error answers that fail `validateStatus` are
   * rejected as errors whether signed or not. `true` (default) for every upstream, `false` for none, or a
   * list of upstream ids.
   *
   * An answer sealed to an ed25519 upstream (`encrypt`, a call with a body) is verified whatever this
   * says: it is sealed to the request's ephemeral key, public in the request, so its sealing keeps it
   * confidential but does not prove who sealed it; its signature does (PROTOCOL.md §10).
   */
  verifyAnswers?: boolean | string[];
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

/** `SignedHttpModule.register(options)`: who this service is, where its upstreams' keys come from, and how it calls them. */
export interface SignedHttpModuleOptions extends SignedHttpClientOptions {
  /** This service's id (e.g. `order-service`): the caller id its upstreams know it under. */
  serviceId: string;
  /**
   * Keys held directly in the options (only `upstreams` is used here). Prefer `keyProvider` (or
   * nothing: the environment is read) so that keys can be reloaded without a restart.
   */
  keys?: KeyMaterial;
  /**
   * Supplies keys at start-up and on `SignedHttpService.keys.reload()`. Default: EnvKeyProvider over
   * process.env (SERVICE_AUTH_UPSTREAMS, SERVICE_AUTH_UPSTREAM_<ID>_URL, SERVICE_AUTH_UPSTREAM_<ID>_KEYS).
   */
  keyProvider?: KeyProvider;
}
