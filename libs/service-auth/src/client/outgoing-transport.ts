import {
  getAdapter,
  isAxiosError,
  type AxiosAdapter,
  type AxiosRequestConfig,
  type AxiosResponse,
  type InternalAxiosRequestConfig,
} from 'axios';
import { OutgoingRequestRefusedError } from './outgoing-request-refused.error.js';
import type { UpstreamCallContext } from './upstream-http.error.js';
import { UpstreamAnswerRefusedError } from './upstream-answer-refused.error.js';

/**
 * How a signed call goes on the wire, whatever axios' defaults, the shared instance's defaults, a
 * request interceptor or the call's own config say. A signed request carries a bearer credential (the
 * API key), a fresh signature nobody has used yet and the body: it must reach its upstream and
 * nothing else, and what comes back must be bounded. axios' defaults, one by one:
 *
 * - `maxRedirects` (default: follow up to 21, via follow-redirects): forced to 0. Following a 307 to
 *   another origin sends it the API key, the signature and the body (follow-redirects strips only
 *   Authorization and Cookie), and with encryption off hands that origin's answer to the caller as the
 *   upstream's. A 3xx is an UpstreamAnswerRefusedError('upstream_redirect'). A call that sets
 *   maxRedirects > 0, `beforeRedirect`, `transport` (a follow-redirects transport follows whatever
 *   maxRedirects says) or `adapter` (the fetch adapter follows by default) is refused, not silently
 *   overridden: it asked for something the client will not do. The dispatch itself runs through
 *   `guardedAdapter`, which checks the final config again (after instance defaults and request
 *   interceptors) and sends with axios' own http adapter.
 * - `maxContentLength` (default: unlimited): the call's limit, maxResponseBytes (default 10 MiB). axios
 *   counts the bytes after decompression (its zlib/brotli stream sits before the counter), so a
 *   decompression bomb stops at the limit. A call may lower it, not raise or remove it.
 * - `maxBodyLength` (default: unlimited): maxRequestBytes; the client checks the prepared body
 *   (ciphertext included) itself before sending, this is the same limit as a second line.
 * - `decompress` (default true): kept. The limit applies to the decoded size, so decoding is safe, and
 *   an encrypted answer (compressed by a gateway) still opens. A call may turn it off.
 * - `proxy` (default: read HTTP_PROXY / HTTPS_PROXY / NO_PROXY from the environment at each call):
 *   forced to `false` unless the call names a proxy itself. An environment proxy is usually meant for
 *   egress to the internet; on a plaintext upstream it would see the API key, the signature and the
 *   body of every signed call. A `proxy` in the call's config is a deliberate choice and honoured.
 *   (`proxy: false` also makes axios bypass Node's own NODE_USE_ENV_PROXY agents.)
 * - `validateStatus` (default 2xx): the call's choice; a 3xx is refused whatever it says.
 * - `responseType: 'stream'`: allowed; axios enforces the limit while the stream is read (the stream
 *   then fails with axios' own error, as it is past the point where this client can type it).
 * - everything else (timeout, agents, lookup, socketPath, auth, responseType…) is the caller's: it
 *   changes where or how this call's own bytes travel, not where its credential ends up.
 * Out of reach, because it is the application's own code rather than a call's config: a custom adapter
 * FUNCTION installed on the axios instance (a test double, a mock; see guardedAdapter), and a request
 * interceptor that swaps the adapter itself.
 */

export interface TransportLimits {
  /** Largest answer accepted, in bytes, after decompression. */
  maxResponseBytes: number;
  /** Largest body sent, in bytes. */
  maxRequestBytes: number;
}

/** 304 Not Modified answers a conditional request the caller made; it points nowhere. Every other 3xx is a redirect. */
export function isRedirect(status: number): boolean {
  return status >= 300 && status < 400 && status !== 304;
}

function unsafe(option: string, why: string): OutgoingRequestRefusedError {
  return new OutgoingRequestRefusedError('request_config_unsafe', `SignedHttpService: ${option} cannot be set: ${why}`, option);
}

const NEVER_FOLLOWS = 'signed calls never follow redirects (a redirect would carry the API key, a fresh signature and the body elsewhere)';

/** A byte limit the call may lower, never raise or remove: undefined, or an integer in [0, ceiling]. */
function checkLimit(value: unknown, option: string, ceiling: number, clientOption: string): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > ceiling) {
    throw unsafe(option, `it may lower ${clientOption} (${ceiling}), not raise or remove it (got ${JSON.stringify(value)})`);
  }
}

/** Refuses, before anything is signed or sent, a call config that would weaken the guarantees above. */
export function checkCallConfig(config: AxiosRequestConfig, limits: TransportLimits): void {
  if (config.maxRedirects !== undefined && config.maxRedirects !== 0) throw unsafe('maxRedirects', NEVER_FOLLOWS);
  if (config.beforeRedirect !== undefined) throw unsafe('beforeRedirect', NEVER_FOLLOWS);
  if (config.transport !== undefined) throw unsafe('transport', `${NEVER_FOLLOWS}; calls go through axios' http transport`);
  if (config.adapter !== undefined) throw unsafe('adapter', `${NEVER_FOLLOWS}; calls go through axios' http adapter`);
  checkLimit(config.maxContentLength, 'maxContentLength', limits.maxResponseBytes, 'maxResponseBytes');
  checkLimit(config.maxBodyLength, 'maxBodyLength', limits.maxRequestBytes, 'maxRequestBytes');
}

/**
 * The adapter every attempt is dispatched with: a last check of the config about to be sent, so that
 * instance defaults (`transport`) and request interceptors (which run after the call's config is
 * built) get no chance to turn redirects back on, lift the limits or bring the environment's proxy
 * back; then axios' own http adapter.
 * `instanceAdapter` reads the axios instance's configured adapter at each dispatch: a named one
 * (axios' default list, 'fetch', …) is replaced by 'http'; a custom FUNCTION is the application's own
 * transport (HttpModule.register({ adapter }) in tests, a mock) and is used, after the same checks:
 * it receives maxRedirects 0, the limits and `proxy: false`, and must honour them.
 */
export function guardedAdapter(
  limits: TransportLimits,
  instanceAdapter: () => AxiosRequestConfig['adapter'] = () => undefined,
): AxiosAdapter {
  const http = getAdapter('http');
  return async (config: InternalAxiosRequestConfig) => {
    if (config.maxRedirects !== 0) throw unsafe('maxRedirects', NEVER_FOLLOWS);
    if (config.transport !== undefined && config.transport !== null)
      throw unsafe('transport', `${NEVER_FOLLOWS}; calls go through axios' http transport`);
    checkLimit(config.maxContentLength, 'maxContentLength', limits.maxResponseBytes, 'maxResponseBytes');
    checkLimit(config.maxBodyLength, 'maxBodyLength', limits.maxRequestBytes, 'maxRequestBytes');
    if (config.proxy === undefined)
      throw unsafe('proxy', 'signed calls never go through a proxy named by the environment; name one in the config, or set false');
    const configured = instanceAdapter();
    return typeof configured === 'function' ? configured(config) : http(config);
  };
}

/** The transport settings of one attempt, forced over the call's config (which checkCallConfig accepted). */
export function transportConfig(config: AxiosRequestConfig, limits: TransportLimits, adapter: AxiosAdapter): AxiosRequestConfig {
  return {
    adapter,
    maxRedirects: 0,
    maxContentLength: config.maxContentLength ?? limits.maxResponseBytes,
    maxBodyLength: config.maxBodyLength ?? limits.maxRequestBytes,
    proxy: config.proxy ?? false,
  };
}

/** axios' own wording when maxContentLength is exceeded (lib/adapters/http.js); pinned by the e2e tests. */
const TOO_LARGE = /^maxContentLength size of (\d+) exceeded$/;

/** The refusal an attempt's failure stands for (a redirect, an answer over the limit), or undefined if it is none. */
export function refusedAnswer(error: unknown, upstream: string, context?: UpstreamCallContext): UpstreamAnswerRefusedError | undefined {
  if (!isAxiosError(error)) return undefined;
  if (error.response && isRedirect(error.response.status)) return redirectRefusal(error.response, upstream, context);
  const tooLarge = TOO_LARGE.exec(error.message);
  if (tooLarge) {
    return new UpstreamAnswerRefusedError(upstream, 'upstream_response_too_large', { limitBytes: Number(tooLarge[1]), ...context });
  }
  return undefined;
}

/** For an answer a caller's validateStatus accepted: a redirect is refused all the same. */
export function refuseRedirect(response: AxiosResponse, upstream: string, context?: UpstreamCallContext): void {
  if (isRedirect(response.status)) throw redirectRefusal(response, upstream, context);
}

function redirectRefusal(response: AxiosResponse, upstream: string, context?: UpstreamCallContext): UpstreamAnswerRefusedError {
  const location: unknown = response.headers?.['location'];
  return new UpstreamAnswerRefusedError(upstream, 'upstream_redirect', {
    status: response.status,
    location: typeof location === 'string' ? location : undefined,
    ...context,
  });
}
