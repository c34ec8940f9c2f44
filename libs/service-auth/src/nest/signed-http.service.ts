import { HttpService } from '@nestjs/axios';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { AxiosHeaders, type AxiosRequestConfig, type AxiosResponse } from 'axios';
import { Observable } from 'rxjs';
import { openAnswer, prepareRequest } from '../client/outgoing-request.js';
import { RetryPolicy } from '../client/retry-policy.js';
import { UpstreamCircuitBreakers, upstreamOrigin } from '../client/upstream-circuit-breakers.js';
import { DEFAULT_CLIENT_TIMEOUT_MS } from './service-auth.constants.js';
import { ServiceAuthKeys } from './service-auth-keys.service.js';
import { SERVICE_AUTH_OPTIONS } from './service-auth.module-definition.js';
import type { ServiceAuthModuleOptions } from './service-auth-options.interface.js';

/**
 * A drop-in for @nestjs/axios' HttpService whose every request is signed (RFC 9421, hmac-sha256)
 * with this service's current credential. Observables are cold: every subscription, and so every
 * retry, is signed afresh with a new `created` and `nonce`, and is never refused as a replay.
 * Unsubscribing cancels the call (and any pending retry).
 *
 * Resilience (see SignedHttpClientOptions): idempotent requests are retried with exponential backoff
 * and full jitter (`client.retry`, RetryPolicy), and every attempt goes through the circuit breaker of
 * its upstream origin (`client.circuitBreaker`, UpstreamCircuitBreakers): while it is open, calls fail
 * fast with UpstreamUnavailableError.
 */
@Injectable()
export class SignedHttpService {
  private readonly logger = new Logger('SignedHttpService');
  private readonly timeoutMs: number;
  private readonly encrypt: boolean | string[];
  private readonly retry: RetryPolicy | undefined;
  private readonly breakers: UpstreamCircuitBreakers | undefined;

  constructor(
    private readonly http: HttpService,
    private readonly keys: ServiceAuthKeys,
    @Inject(SERVICE_AUTH_OPTIONS) options: ServiceAuthModuleOptions,
  ) {
    this.timeoutMs = options.client?.timeoutMs ?? DEFAULT_CLIENT_TIMEOUT_MS;
    this.encrypt = options.client?.encrypt ?? false;
    const retry = options.client?.retry;
    this.retry = retry === false ? undefined : new RetryPolicy(retry ?? {});
    const circuitBreaker = options.client?.circuitBreaker;
    this.breakers =
      circuitBreaker === false
        ? undefined
        : new UpstreamCircuitBreakers(circuitBreaker ?? {}, {
            onStateChange: (upstream, state) => {
              const entry = { event: 'upstream_circuit_state', upstream, state };
              if (state === 'open') this.logger.warn(entry);
              else this.logger.log(entry);
            },
          });
  }

  private encrypts(url: string): boolean {
    return this.encrypt === true || (Array.isArray(this.encrypt) && this.encrypt.some((prefix) => url.startsWith(prefix)));
  }

  /**
   * The underlying axios instance, as HttpService exposes it. Typed as HttpService's own member: a
   * CommonJS build sees axios' CommonJS types while @nestjs/axios 12 (ESM) sees its ESM types.
   */
  get axiosRef(): HttpService['axiosRef'] {
    return this.http.axiosRef;
  }

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

  /** One call: retried if idempotent and retry is on; every attempt through the upstream's breaker and signed afresh. */
  private async execute<T>(config: AxiosRequestConfig, signal: AbortSignal): Promise<AxiosResponse<T>> {
    const method = (config.method ?? 'GET').toUpperCase();
    const upstream = upstreamOrigin(this.http.axiosRef.getUri(config));
    const breakers = this.breakers;
    const attempt = breakers
      ? () => breakers.execute<T>(upstream, () => this.send<T>(config, signal))
      : () => this.send<T>(config, signal);
    if (!this.retry || !RetryPolicy.isRetryableRequest(method, config.headers)) return attempt();
    return this.retry.run<T>(attempt, {
      signal,
      onRetry: ({ attempt: failed, delayMs, cause }) =>
        this.logger.warn({ event: 'upstream_retry', upstream, method, attempt: failed, cause, delayMs }),
    });
  }

  /** Prepares (encrypted if configured, signed with a new `created` and nonce) and sends one attempt. */
  private async send<T>(config: AxiosRequestConfig, signal: AbortSignal): Promise<AxiosResponse<T>> {
    const key = this.keys.ring.signingKey;
    if (!key) {
      throw new Error('SignedHttpService has no credential to sign with: configure SERVICE_AUTH_KEYS or options.keys.credentials');
    }
    const axios = this.http.axiosRef;
    const method = (config.method ?? 'GET').toUpperCase();
    // The URL axios will put on the wire, with params serialised its way; it is then sent verbatim.
    const url = axios.getUri(config);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(AxiosHeaders.from((config.headers ?? {}) as any).toJSON())) {
      if (value !== undefined && value !== null && (value as unknown) !== false) headers[name.toLowerCase()] = String(value);
    }
    const encrypted = this.encrypts(url);
    const prepared = prepareRequest({ method, url, headers, data: config.data }, key, encrypted);
    const response = await axios.request<T>({
      ...config,
      method,
      url,
      baseURL: undefined,
      params: undefined,
      data: prepared.body,
      headers: prepared.headers,
      timeout: config.timeout ?? this.timeoutMs,
      signal,
      transformRequest: [(data) => data],
    });
    if (encrypted) {
      const contentType = response.headers['content-type'];
      response.data = openAnswer(
        { status: response.status, contentType: typeof contentType === 'string' ? contentType : undefined, data: response.data },
        (kid) => this.keys.ring.findOwnKey(kid)?.encryptionKey,
        prepared.nonce,
      ) as T;
    }
    return response;
  }
}
