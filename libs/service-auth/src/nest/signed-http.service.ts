import { HttpService } from '@nestjs/axios';
import { Inject, Injectable } from '@nestjs/common';
import { AxiosHeaders, type AxiosInstance, type AxiosRequestConfig, type AxiosResponse } from 'axios';
import { defer, from, type Observable } from 'rxjs';
import { signRequest } from '../protocol/request-signer.js';
import { DEFAULT_CLIENT_TIMEOUT_MS } from './service-auth.constants.js';
import { ServiceAuthKeys } from './service-auth-keys.service.js';
import { SERVICE_AUTH_OPTIONS } from './service-auth.module-definition.js';
import type { ServiceAuthModuleOptions } from './service-auth-options.interface.js';

/** Serialises the body once, so that the bytes signed are the bytes sent. */
function bodyBytes(data: unknown, headers: AxiosHeaders): Buffer | undefined {
  if (data === undefined || data === null) return undefined;
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (typeof data === 'string') {
    if (!headers.has('content-type')) headers.set('content-type', 'text/plain; charset=utf-8');
    return Buffer.from(data, 'utf8');
  }
  if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  return Buffer.from(JSON.stringify(data), 'utf8');
}

/**
 * A drop-in for @nestjs/axios' HttpService whose every request is signed (RFC 9421, hmac-sha256)
 * with this service's current credential. Observables are cold: every subscription, and so every
 * retry, is signed afresh with a new `created` and `nonce`, and is never refused as a replay.
 */
@Injectable()
export class SignedHttpService {
  private readonly timeoutMs: number;

  constructor(
    private readonly http: HttpService,
    private readonly keys: ServiceAuthKeys,
    @Inject(SERVICE_AUTH_OPTIONS) options: ServiceAuthModuleOptions,
  ) {
    this.timeoutMs = options.client?.timeoutMs ?? DEFAULT_CLIENT_TIMEOUT_MS;
  }

  /** The underlying axios instance, as HttpService exposes it. */
  get axiosRef(): AxiosInstance {
    return this.http.axiosRef;
  }

  request<T = any>(config: AxiosRequestConfig): Observable<AxiosResponse<T>> {
    return defer(() => from(this.send<T>(config)));
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

  private async send<T>(config: AxiosRequestConfig): Promise<AxiosResponse<T>> {
    const key = this.keys.ring.signingKey;
    if (!key) {
      throw new Error('SignedHttpService has no credential to sign with: configure SERVICE_AUTH_KEYS or options.keys.credentials');
    }
    const axios = this.http.axiosRef;
    const method = (config.method ?? 'GET').toUpperCase();
    // The URL axios will put on the wire, with params serialised its way; it is then sent verbatim.
    const url = axios.getUri(config);
    const headers = AxiosHeaders.from((config.headers ?? {}) as any);
    const body = bodyBytes(config.data, headers);
    const plain: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers.toJSON())) {
      if (value !== undefined && value !== null && (value as unknown) !== false) plain[name.toLowerCase()] = String(value);
    }
    const signed = signRequest({ method, url, headers: plain, body }, key);
    return axios.request<T>({
      ...config,
      method,
      url,
      baseURL: undefined,
      params: undefined,
      data: body,
      headers: { ...plain, ...signed },
      timeout: config.timeout ?? this.timeoutMs,
      transformRequest: [(data) => data],
    });
  }
}
