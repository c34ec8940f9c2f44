import { Logger } from '@nestjs/common';
import { type AxiosAdapter, type AxiosInstance, type AxiosRequestConfig, type AxiosResponse } from 'axios';
import { Observable } from 'rxjs';
import { callHeaders } from '../../client/call-headers.js';
import { OutgoingRequestRefusedError } from '../../client/outgoing-request-refused.error.js';
import { openAnswer, prepareRequest } from '../../client/outgoing-request.js';
import { checkCallConfig, guardedAdapter, refusedAnswer, refuseRedirect, transportConfig } from '../../client/outgoing-transport.js';
import { ownAxiosInstance } from '../../client/own-axios-instance.js';
import { redactedError } from '../../client/redacted-error.js';
import { redactedResponse } from '../../client/redacted-response.js';
import { appliesTo, type ResolvedClientOptions } from '../../client/resolved-client-options.js';
import { RetryPolicy } from '../../client/retry-policy.js';
import { UpstreamCircuitBreakers, upstreamOrigin } from '../../client/upstream-circuit-breakers.js';
import { UpstreamNotConfiguredError } from '../../client/upstream-not-configured.error.js';
import { upstreamHttpErrorOf } from '../../client/upstream-http.error.js';
import type { ServiceAuthKeys } from '../service-auth-keys.service.js';
import { encryptionKeyOf } from '../../keys/key-ring.js';
import { answerVerificationKey } from '../../keys/answer-keys.js';
import { AnswerSignatureError, verifyAnswer } from '../../protocol/response-signature.js';
import { AnswerBytes } from '../../client/answer-bytes.js';
import { UpstreamAnswerRefusedError } from '../../client/upstream-answer-refused.error.js';
import { LogLine } from '../logging/log-line.js';

/**
 * A drop-in for @nestjs/axios' HttpService whose every request is signed (RFC 9421, hmac-sha256 or ed25519)
 * with the current key of the upstream it is sent to, and names that upstream as its audience. The
 * upstream is chosen by URL (see KeyRing.upstreamFor); a URL that belongs to no configured upstream
 * is refused with UpstreamNotConfiguredError before anything is sent. Observables are cold: every subscription, and so every
 * retry, is signed afresh with a new `created` and `nonce`, and is never refused as a replay.
 * Unsubscribing cancels the call (and any pending retry).
 *
 * The signature covers every header the call sets but the hop-by-hop and transport ones (see
 * client/signed-call-headers.ts), `accept` whenever a sealed answer is asked for, and `@authority`
 * for the upstreams of the `coverAuthority` option.
 *
 * Errors: an error answer of the upstream (4xx, 5xx) is an UpstreamHttpError, an AxiosError that says
 * which upstream refused which key id and with which reason code; every other failure is redacted the
 * same way (see client/redacted-error.ts) and holds no API key, signature or body.
 *
 * Resilience (see SignedHttpClientOptions): idempotent requests are retried with exponential backoff
 * and full jitter (`retry`, RetryPolicy), and every attempt goes through the circuit breaker of
 * its upstream origin (`circuitBreaker`, UpstreamCircuitBreakers): while it is open, calls fail
 * fast with UpstreamUnavailableError.
 *
 * Transport (see client/outgoing-transport.ts for every axios default and why): calls go through an
 * axios instance of the client's own, never the process-global one nor an HttpModule's, so no
 * interceptor of the application sees the API key or a signature. Redirects are never
 * followed (a 3xx is an UpstreamAnswerRefusedError 'upstream_redirect'), answers are bounded
 * (`maxResponseBytes`, decoded size; 'upstream_response_too_large'), bodies too
 * (`maxRequestBytes`), and proxies named by the environment are ignored. A call config that
 * would undo any of this is refused with OutgoingRequestRefusedError before anything is sent.
 *
 * Provided by SignedHttpModule.register(); constructed there, with the module's keys and options.
 */
export class SignedHttpService {
  private readonly logger = new Logger('SignedHttpService');
  private readonly retry: RetryPolicy | undefined;
  private readonly breakers: UpstreamCircuitBreakers | undefined;
  private readonly adapter: AxiosAdapter;
  private readonly instance: AxiosInstance;

  constructor(
    /** The keys this client signs with, its own (not ServiceAuthModule's): `keys.reload()` reads its key source again. */
    readonly keys: ServiceAuthKeys,
    /** SignedHttpModule's options, defaults filled in; also the transport's byte limits. */
    private readonly client: ResolvedClientOptions,
  ) {
    // The transport settings as the instance's defaults too, so that axiosRef used directly starts
    // from them; every signed call forces them again (transportConfig, guardedAdapter). Nothing of
    // the process-global axios.defaults is inherited (client/own-axios-instance.ts).
    this.instance = ownAxiosInstance(client);
    this.adapter = guardedAdapter(client, () => this.instance.defaults.adapter);
    this.retry = client.retry === false ? undefined : new RetryPolicy(client.retry);
    this.breakers =
      client.circuitBreaker === false
        ? undefined
        : new UpstreamCircuitBreakers(client.circuitBreaker, {
            onStateChange: (upstream, state) => {
              const entry = new LogLine({ event: 'upstream_circuit_state', upstream, state });
              if (state === 'open') this.logger.warn(entry);
              else this.logger.log(entry);
            },
          });
  }

  /**
   * The absolute URL of `path` at a configured upstream: `urlFor('inventory-service', '/api/inventory')`.
   * Lets an application keep an upstream's location in one place, its service-auth configuration.
   */
  urlFor(upstreamId: string, path = '/'): string {
    const upstream = this.keys.ring.upstream(upstreamId);
    if (!upstream) throw new UpstreamNotConfiguredError(`upstream "${upstreamId}"`, this.keys.ring.upstreamIds);
    return upstream.url + (path.startsWith('/') ? path : `/${path}`);
  }

  /**
   * The client's own axios instance, as HttpService exposes its own; used by nothing else in the
   * process. A custom adapter FUNCTION set on its defaults (a test double) carries every signed call.
   */
  get axiosRef(): AxiosInstance {
    return this.instance;
  }

  // `T = any` on every method, as on HttpService's: code written for HttpService compiles unchanged
  // (with `unknown`, every `response.data.x` it has would stop compiling).
  /* eslint-disable @typescript-eslint/no-explicit-any -- HttpService's own `T = any` defaults, kept for drop-in compatibility (above) */
  request<T = any>(config: AxiosRequestConfig): Observable<AxiosResponse<T>> {
    return new Observable<AxiosResponse<T>>((subscriber) => {
      const controller = new AbortController();
      const callerSignal = config.signal;
      const forward = () => controller.abort();
      if (callerSignal?.aborted) controller.abort();
      else callerSignal?.addEventListener?.('abort', forward);
      let settled = false;
      const settle = () => {
        settled = true;
        callerSignal?.removeEventListener?.('abort', forward);
      };
      this.execute<T>(config, controller.signal).then(
        (response) => {
          settle();
          subscriber.next(response);
          subscriber.complete();
        },
        (error) => {
          settle();
          subscriber.error(error);
        },
      );
      return () => {
        if (settled) return;
        callerSignal?.removeEventListener?.('abort', forward);
        controller.abort();
      };
    });
  }

  get<T = any>(url: string, config?: AxiosRequestConfig): Observable<AxiosResponse<T>> {
    return this.request<T>({ ...config, method: 'GET', url });
  }

  delete<T = any>(url: string, config?: AxiosRequestConfig): Observable<AxiosResponse<T>> {
    return this.request<T>({ ...config, method: 'DELETE', url });
  }

  head<T = any>(url: string, config?: AxiosRequestConfig): Observable<AxiosResponse<T>> {
    return this.request<T>({ ...config, method: 'HEAD', url });
  }

  options<T = any>(url: string, config?: AxiosRequestConfig): Observable<AxiosResponse<T>> {
    return this.request<T>({ ...config, method: 'OPTIONS', url });
  }

  post<T = any>(url: string, data?: unknown, config?: AxiosRequestConfig): Observable<AxiosResponse<T>> {
    return this.request<T>({ ...config, method: 'POST', url, data });
  }

  put<T = any>(url: string, data?: unknown, config?: AxiosRequestConfig): Observable<AxiosResponse<T>> {
    return this.request<T>({ ...config, method: 'PUT', url, data });
  }

  patch<T = any>(url: string, data?: unknown, config?: AxiosRequestConfig): Observable<AxiosResponse<T>> {
    return this.request<T>({ ...config, method: 'PATCH', url, data });
  }
  /* eslint-enable @typescript-eslint/no-explicit-any */

  /** One call: retried if idempotent and retry is on; every attempt through the upstream's breaker and signed afresh. */
  private async execute<T>(config: AxiosRequestConfig, signal: AbortSignal): Promise<AxiosResponse<T>> {
    const method = (config.method ?? 'GET').toUpperCase();
    // Before the breaker and the retries: a refused config is the caller's mistake, not the upstream's.
    checkCallConfig(config, this.client);
    const upstream = upstreamOrigin(this.instance.getUri(config));
    const breakers = this.breakers;
    const attempt = breakers
      ? () => breakers.execute<T>(upstream, () => this.send<T>(config, upstream, signal))
      : () => this.send<T>(config, upstream, signal);
    if (!this.retry || !RetryPolicy.isRetryableRequest(method, config.headers)) return attempt();
    return this.retry.run<T>(attempt, {
      signal,
      onRetry: ({ attempt: failed, delayMs, cause }) =>
        this.logger.warn(new LogLine({ event: 'upstream_retry', upstream, method, attempt: failed, cause, delayMs })),
    });
  }

  /** Prepares (encrypted if configured, signed with a new `created` and nonce) and sends one attempt. */
  private async send<T>(config: AxiosRequestConfig, origin: string, signal: AbortSignal): Promise<AxiosResponse<T>> {
    const instance = this.instance;
    const method = (config.method ?? 'GET').toUpperCase();
    // The URL axios will put on the wire, with params serialised its way; it is then sent verbatim.
    const url = instance.getUri(config);
    const ring = this.keys.ring;
    const upstream = ring.upstreamFor(url);
    if (!upstream) throw new UpstreamNotConfiguredError(targetOf(url), ring.upstreamIds);
    const key = upstream.keys[0];
    const headers = callHeaders(config.headers);
    const encrypted = appliesTo(this.client.encrypt, upstream.id);
    const coverAuthority = appliesTo(this.client.coverAuthority, upstream.id);
    const recipient = upstream.encryptionKeys[0];
    const prepared = prepareRequest({ method, url, headers, data: config.data }, key, encrypted, { coverAuthority, recipient });
    // An answer sealed with ECDH-ES (an ed25519 pair) is sealed to the request's ephemeral key, whose
    // public half travels in the request: anyone who saw the request can seal an answer that opens.
    // Only the answer's signature proves the upstream wrote it, so it is checked whatever
    // `verifyAnswers` says (PROTOCOL.md §10).
    const sealedToEphemeralKey = prepared.ephemeralKey !== undefined;
    const verifyAnswers = sealedToEphemeralKey || appliesTo(this.client.verifyAnswers, upstream.id);
    if (verifyAnswers && config.responseType === 'stream') {
      const why = sealedToEphemeralKey
        ? `an answer sealed to ed25519 upstream "${upstream.id}" is always verified`
        : `verifyAnswers covers upstream "${upstream.id}"`;
      throw new OutgoingRequestRefusedError(
        'request_config_unsafe',
        `SignedHttpService: responseType 'stream' cannot be used with verified answers (${why}); nothing was sent`,
        'responseType',
      );
    }
    // A conditional GET can be answered 304 with no body by the upstream's framework (Express does so
    // after the answer was signed for its 200): such an answer carries nothing to verify, so a call
    // whose answer is verified may not ask for one.
    const conditional = verifyAnswers ? conditionalHeaderOf(headers, instance, method) : undefined;
    if (conditional) {
      throw new OutgoingRequestRefusedError(
        'request_config_unsafe',
        `SignedHttpService: a ${conditional} header asks for a 304 answer, which carries no signed answer to verify; nothing was sent`,
        'headers',
      );
    }
    const answerBytes = verifyAnswers ? new AnswerBytes(config.responseType) : undefined;
    // Checked here rather than left to axios' maxBodyLength: the refusal is typed, and the limit applies
    // to the bytes on the wire (the ciphertext, when encrypted).
    const limitOption = config.maxBodyLength !== undefined ? 'maxBodyLength' : 'maxRequestBytes';
    const maxRequestBytes = config.maxBodyLength ?? this.client.maxRequestBytes;
    if (prepared.body && prepared.body.length > maxRequestBytes) {
      throw new OutgoingRequestRefusedError(
        'request_too_large',
        `SignedHttpService: the body to send is ${prepared.body.length} bytes, over the limit of ${maxRequestBytes} (${limitOption}); nothing was sent`,
        limitOption,
      );
    }
    let response: AxiosResponse<T>;
    try {
      response = await instance.request<T>({
        ...config,
        ...transportConfig(config, this.client, this.adapter),
        method,
        url,
        baseURL: undefined,
        params: undefined,
        data: prepared.body,
        headers: prepared.headers,
        timeout: config.timeout ?? this.client.timeoutMs,
        signal,
        transformRequest: [(data: unknown) => data],
        ...(answerBytes ? { responseType: 'arraybuffer' as const, transformResponse: [answerBytes.transform] } : {}),
      });
    } catch (error) {
      // Before anything else sees it (the retry policy keeps the last error, the breaker its last
      // failure as the cause of UpstreamUnavailableError): an axios error holds the API key, the
      // signature and the body, and its nonce is unused when the request never reached the upstream.
      // An error answer becomes an UpstreamHttpError: which upstream refused which key, and why.
      const context = { upstreamId: upstream.id, keyId: key.id };
      const redacted = redactedError(error);
      throw refusedAnswer(redacted, origin, context) ?? upstreamHttpErrorOf(redacted, origin, context) ?? redacted;
    }
    refuseRedirect(response, origin, { upstreamId: upstream.id, keyId: key.id });
    if (answerBytes) {
      const header = (name: string) => {
        const value: unknown = response.headers[name];
        return typeof value === 'string' ? value : undefined;
      };
      try {
        verifyAnswer(
          { status: response.status, contentType: header('content-type'), body: answerBytes.bytes },
          { contentDigest: header('content-digest'), signatureInput: header('signature-input'), signature: header('signature') },
          prepared.answered,
          (keyId, alg) => answerVerificationKey(this.keys.ring.upstream(upstream.id) ?? upstream, keyId, alg),
        );
      } catch (err) {
        if (!(err instanceof AnswerSignatureError)) throw err;
        throw new UpstreamAnswerRefusedError(origin, err.reason, {
          status: response.status,
          detail: err.message,
          upstreamId: upstream.id,
          keyId: key.id,
        });
      }
    }
    if (prepared.answerSealed) {
      const contentType = response.headers['content-type'];
      response.data = openAnswer(
        { method, status: response.status, contentType: typeof contentType === 'string' ? contentType : undefined, data: response.data },
        prepared.ephemeralKey
          ? { ephemeralKey: prepared.ephemeralKey }
          : (kid) => encryptionKeyOf(this.keys.ring.findUpstreamKey(upstream.id, kid)),
        prepared.nonce,
      ) as T;
    }
    return redactedResponse(response);
  }
}

/** Request headers that let a framework answer 304 Not Modified instead of the signed answer. */
const CONDITIONAL_REQUEST_HEADERS = ['if-none-match', 'if-modified-since'] as const;

/**
 * The first conditional request header a `method` call will carry: set on the call, or added by axios
 * from the instance's own defaults (`axiosRef.defaults.headers`: directly, under `common`, or under
 * the method).
 */
function conditionalHeaderOf(headers: Record<string, string>, instance: AxiosInstance, method: string): string | undefined {
  const defaults = instance.defaults.headers as unknown as Record<string, unknown>;
  const names = new Set(Object.keys(headers));
  for (const group of [defaults, defaults['common'], defaults[method.toLowerCase()]]) {
    if (typeof group !== 'object' || group === null) continue;
    for (const [name, value] of Object.entries(group)) {
      if (value !== undefined && value !== null && value !== false && typeof value !== 'object') names.add(name.toLowerCase());
    }
  }
  return CONDITIONAL_REQUEST_HEADERS.find((name) => names.has(name));
}

/** Origin and path of a URL, for an error message: the query may carry data that belongs in no log. */
function targetOf(url: string): string {
  try {
    const parsed = new URL(url);
    return parsed.origin + parsed.pathname;
  } catch {
    return '(an invalid URL)';
  }
}
