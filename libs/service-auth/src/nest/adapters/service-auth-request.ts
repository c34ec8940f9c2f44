import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { VerifiedCaller } from '../../protocol/verified-caller.js';
import type { VERIFIED_CALLER_PROPERTY } from '../options/service-auth.constants.js';

/** What the library keeps on a request, whatever the adapter. */
interface ServiceAuthRequestState {
  /** The body's exact bytes: kept by the framework (`rawBody: true`), or read by the guard. */
  rawBody?: Buffer;
  /** The parsed body; an encrypted one is replaced by the JSON it encrypts. */
  body?: unknown;
  /** Set by the guard once the request is verified. */
  [VERIFIED_CALLER_PROPERTY]?: VerifiedCaller;
}

/**
 * Express hands guards its own request, which IS Node's request, with `originalUrl` (the target as it
 * arrived, before a router mounted under a path rewrote `url`), the matched `route`, and `_body` once
 * a body parser has read the body.
 */
interface ExpressRequest extends IncomingMessage, ServiceAuthRequestState {
  readonly raw?: undefined;
  readonly originalUrl?: string;
  /** What a router mounted under a path removed from the front of `url` ('' when not mounted). */
  readonly baseUrl?: string;
  readonly route?: { readonly path?: unknown };
  readonly _body?: boolean;
}

/** Fastify hands them its FastifyRequest, which wraps Node's request in `raw`. */
interface FastifyRequest extends ServiceAuthRequestState {
  readonly raw: IncomingMessage;
  readonly headers: IncomingHttpHeaders;
  readonly method?: string;
  readonly url?: string;
  readonly originalUrl?: string;
  readonly routeOptions?: { readonly url?: unknown; readonly handler?: unknown };
}

/**
 * An HTTP request as the guard, the interceptor, the filter and the decorators receive it, on Express
 * or Fastify: only the members this library reads or sets. The request line, headers and body stream
 * are read through nodeRequest(), the one place that tells the adapters apart.
 */
export type ServiceAuthRequest = ExpressRequest | FastifyRequest;

/** Node's request: Express's request is one, Fastify's wraps one in `raw`. */
export function nodeRequest(req: ServiceAuthRequest): IncomingMessage {
  return req.raw === undefined ? req : req.raw;
}

/**
 * The target as it arrived: Express routers rewrite `url` under a mount point (originalUrl keeps it),
 * Fastify's rewriteUrl rewrites raw.url (the guard checks that the router read what arrived).
 */
export function requestTarget(req: ServiceAuthRequest): string {
  return req.originalUrl ?? nodeRequest(req).url ?? '/';
}

/** The path without its query, for logs (queries can carry data that does not belong in logs). */
export function requestPath(req: ServiceAuthRequest): string {
  const target = requestTarget(req);
  const q = target.indexOf('?');
  return q < 0 ? target : target.slice(0, q);
}

/**
 * What the framework removed from the front of the target before routing: Express' `req.baseUrl` for
 * an application mounted under a path of another (empty otherwise). Fastify never mounts: always empty.
 */
export function mountPointOf(req: ServiceAuthRequest): string {
  if (req.raw !== undefined) return '';
  return typeof req.baseUrl === 'string' ? req.baseUrl : '';
}
