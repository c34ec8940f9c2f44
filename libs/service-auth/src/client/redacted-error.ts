import { AxiosHeaders, isAxiosError, type AxiosError, type InternalAxiosRequestConfig } from 'axios';

/**
 * Request headers an error must not carry. The API key, the signature and its parameters (the nonce)
 * let whoever reads a log line send the call again: when the request never reached the upstream (a
 * refused connection, a timeout), its nonce is unused and the signature replayable for the whole
 * replay window. The content digest is a hash of the body, which a small body does not survive. The
 * others are the usual credentials a caller may have added itself.
 */
const SECRET_HEADERS: ReadonlySet<string> = new Set([
  'x-api-key',
  'signature',
  'signature-input',
  'content-digest',
  'authorization',
  'proxy-authorization',
  'cookie',
]);

/**
 * What is left of the request that was sent, in place of axios' `error.request` (Node's ClientRequest,
 * whose header block holds every header above). Truthy, so that the check axios documents for "sent,
 * but no answer" (`error.request && !error.response`) still works.
 */
export interface RedactedRequest {
  readonly method: string | undefined;
  /** Origin and path: the query may carry data that belongs in no log. */
  readonly url: string | undefined;
}

/**
 * The error of a failed attempt, fit to be logged: an axios error keeps its message, code, status, and
 * the upstream's answer (status, headers, data), while its config becomes method, URL (origin and
 * path), timeout and the headers that are not secret, with no body; and `request` (also under
 * `response`) becomes a RedactedRequest. The error is changed in place, so that it stays the
 * AxiosError (and CanceledError) users test for. Any other error is returned unchanged: the client's
 * own errors carry no request.
 */
export function redactedError<E>(error: E): E {
  if (!isAxiosError(error)) return error;
  const axiosError = error as AxiosError;
  const config = axiosError.config ? redactedConfig(axiosError.config) : undefined;
  const request: RedactedRequest | undefined =
    axiosError.request || axiosError.response ? { method: config?.method?.toUpperCase(), url: config?.url } : undefined;
  axiosError.config = config;
  axiosError.request = request;
  if (axiosError.response) {
    axiosError.response.config = config as InternalAxiosRequestConfig;
    axiosError.response.request = request;
  }
  return error;
}

/** The config of a sent request without its secrets (SECRET_HEADERS) and body; URL as origin and path. */
export function redactedConfig(config: InternalAxiosRequestConfig): InternalAxiosRequestConfig {
  const headers = new AxiosHeaders();
  for (const [name, value] of Object.entries(AxiosHeaders.from(config.headers ?? {}).toJSON())) {
    if (!SECRET_HEADERS.has(name.toLowerCase())) headers.set(name, value as string);
  }
  return { method: config.method, url: originAndPath(config.url), timeout: config.timeout, headers };
}

function originAndPath(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    const parsed = new URL(url);
    return parsed.origin + parsed.pathname;
  } catch {
    return undefined;
  }
}
