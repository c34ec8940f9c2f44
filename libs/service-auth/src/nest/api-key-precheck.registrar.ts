import { Inject, Injectable, Optional, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { REASON_STATUS, type ReasonCode } from '../errors/reason-codes.js';
import type { VerificationObserver } from '../metrics/verification-observer.js';
import type { RequestVerifier } from '../protocol/request-verifier.js';
import { ServiceAuthError } from '../errors/service-auth.error.js';
import { checkRoutedTarget } from '../protocol/request-target.js';
import { isKnownProtectedRoute } from './protected-routes.js';
import { declaresBody } from './raw-body.js';
import { RefusalLog } from './refusal-log.js';
import { headerOf, requestMessage } from './request-message.js';
import type { ResolvedServiceAuthOptions } from './resolved-options.js';
import { REQUEST_VERIFIER, RESOLVED_OPTIONS, VERIFICATION_OBSERVER } from './service-auth.constants.js';
import { ServiceAuthKeys } from './service-auth-keys.service.js';
import { mountPointOf, nodeRequest, type ServiceAuthRequest } from './service-auth-request.js';

/**
 * Strangers are refused before their body is read. Body parsers run before any guard, so without this
 * a request with no API key, or one nobody holds, would have its body received and parsed (up to
 * `maxBodyBytes` of JSON) only for the guard to refuse it on a header.
 *
 * Before the body parsers (a Fastify `onRequest` hook; on Express, a middleware placed at the front of
 * the application's stack, ahead of the parsers Nest registered), a request that announces a body is
 * looked at: a known API key goes on unchanged (the guard verifies the rest). Otherwise, on a route the
 * guard has refused such a request on before (see protected-routes.ts: public routes are never in that
 * set), it is refused now, with what the guard would answer: the same checks in the same order (request
 * target, Content-Encoding, routed URL against the target, declared size, then `api_key_missing` /
 * `api_key_invalid`), the same JSON
 * answer, the same log line and the same metrics event.
 *
 * Everything else goes on as before: body-less requests (refusing them later costs nothing extra),
 * requests to routes not known to need a caller, and on Express requests that more than one route
 * could serve (host or version filters decide between them, later).
 */
@Injectable()
export class ApiKeyPrecheckRegistrar implements OnModuleInit {
  private readonly maxBodyBytes: number;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly keys: ServiceAuthKeys,
    @Inject(REQUEST_VERIFIER) private readonly verifier: RequestVerifier,
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedServiceAuthOptions,
    private readonly refusalLog: RefusalLog,
    @Optional() @Inject(VERIFICATION_OBSERVER) private readonly observer: VerificationObserver | null = null,
  ) {
    this.maxBodyBytes = options.maxBodyBytes;
  }

  onModuleInit(): void {
    // Without callers there is no guard to learn routes from (guard: 'none').
    if (this.options.guard === 'none' || !this.keys.inbound) return;
    const adapter = this.adapterHost.httpAdapter;
    const type = adapter?.getType();
    if (type === 'fastify') this.registerFastifyHook(adapter.getInstance<FastifyHooks>());
    else if (type === 'express') this.registerExpressMiddleware(adapter.getInstance<ExpressApp>());
  }

  private registerFastifyHook(instance: FastifyHooks): void {
    instance.addHook('onRequest', (request, reply, done) => {
      const started = this.observer ? performance.now() : 0;
      // Fastify never mounts: the routed URL is raw.url (after any rewriteUrl), the mount point empty.
      const refused = this.refusal(request, request.raw, '', fastifyRouteOf);
      if (!refused) return done();
      const pattern = request.routeOptions?.url;
      this.refuse(refused.error, request, typeof pattern === 'string' ? pattern : undefined, started);
      void reply.code(refused.error.status).send(answerOf(refused.error));
    });
  }

  private registerExpressMiddleware(app: ExpressApp): void {
    const router = app.router ?? app._router;
    if (!router || !Array.isArray(router.stack) || typeof app.use !== 'function') return;
    const routeOf = (req: ServiceAuthRequest): ExpressRoute | undefined => onlyRouteFor(router, nodeRequest(req));
    const precheck = (
      req: ExpressIncoming,
      res: ServerResponse & { status(code: number): { json(body: unknown): unknown } },
      next: () => void,
    ) => {
      const started = this.observer ? performance.now() : 0;
      const refused = this.refusal(req, req, mountPointOf(req), routeOf);
      if (!refused) return next();
      const pattern = refused.route?.path;
      this.refuse(refused.error, req, typeof pattern === 'string' ? pattern : undefined, started);
      res.status(refused.error.status).json(answerOf(refused.error));
    };
    app.use(precheck);
    // Right before the first body parser: after the application's own middleware on its Express
    // instance (which may rewrite the URL the router will use), before anything reads a body.
    const index = router.stack.findIndex((layer) => layer?.handle === precheck);
    const firstParser = router.stack.findIndex((layer) => isBodyParser(layer?.handle));
    if (firstParser >= 0 && firstParser < index) router.stack.splice(firstParser, 0, ...router.stack.splice(index, 1));
  }

  /**
   * Why the guard would refuse this request for its API key, when it announces a body and its route
   * is known to need a caller, with that route; undefined when it goes on. `routeOf` is only asked
   * for when the key is missing or unknown. A known key, the usual case, costs its hash.
   */
  private refusal<R extends object>(
    req: ServiceAuthRequest,
    raw: IncomingMessage,
    mountPoint: string,
    routeOf: (req: ServiceAuthRequest) => R | undefined,
  ): { error: Refusal; route: R | undefined } | undefined {
    if (!declaresBody(raw)) return undefined;
    const apiKey = headerOf(raw.headers, 'x-api-key');
    if (apiKey !== undefined && apiKey !== '') {
      // A known key: the guard verifies the rest.
      if (this.keys.ring.findByApiKey(apiKey)) return undefined;
    }
    const route = routeOf(req);
    if (!isKnownProtectedRoute(route)) return undefined;
    // What the guard checks before the API key, in its order.
    const message = requestMessage(req);
    try {
      this.verifier.precheck(message);
      checkRoutedTarget(message.target, raw.url, mountPoint);
    } catch (err) {
      if (err instanceof ServiceAuthError) return { error: err, route };
      return undefined;
    }
    // Plain objects, not errors: a refusal here is the common case of a flood, and an Error's stack
    // trace would be most of its cost.
    if (Number(raw.headers['content-length'] ?? 0) > this.maxBodyBytes) {
      return { error: refusalOf('body_too_large', `The body exceeds ${this.maxBodyBytes} bytes`), route };
    }
    return { error: apiKey === undefined || apiKey === '' ? API_KEY_MISSING : API_KEY_INVALID, route };
  }

  /** The guard's log line and metrics event for the refusal. */
  private refuse(error: Refusal, req: ServiceAuthRequest, routePattern: string | undefined, started: number): void {
    this.refusalLog.write(req, error, routePattern);
    if (!this.observer) return;
    try {
      this.observer.onRefused({
        route: routePattern ?? 'unknown',
        method: typeof req.method === 'string' ? req.method : 'UNKNOWN',
        caller: undefined,
        durationSeconds: (performance.now() - started) / 1000,
        reason: error.reason,
        status: error.status,
      });
    } catch {
      // Metrics are best effort; the decision already stands.
    }
  }
}

/** What the guard's refusal carries (a ServiceAuthError is one). */
interface Refusal {
  readonly reason: ReasonCode;
  readonly message: string;
  readonly status: number;
  readonly detail?: string;
}

function refusalOf(reason: ReasonCode, message: string): Refusal {
  return { reason, message, status: REASON_STATUS[reason] };
}

// The guard's messages for these reasons (RequestVerifier), word for word.
const API_KEY_MISSING = refusalOf('api_key_missing', 'X-API-Key header is required');
const API_KEY_INVALID = refusalOf('api_key_invalid', 'The API key is not valid');

/** The body of the refusal, as ServiceAuthException gives it to Nest. */
function answerOf(refusal: Refusal): { statusCode: number; error: string; reason: ReasonCode; message: string } {
  return { statusCode: refusal.status, error: STATUS_CODES[refusal.status] ?? 'Error', reason: refusal.reason, message: refusal.message };
}

/** The route a Fastify request was matched to (its handler, as the guard remembers it). */
function fastifyRouteOf(request: ServiceAuthRequest): object | undefined {
  return (request as { routeOptions?: { handler?: object } }).routeOptions?.handler;
}

/** An Express route: what the router's layers hold. */
interface ExpressRoute {
  readonly path?: unknown;
  _handlesMethod(method: string | undefined): boolean;
}

interface ExpressLayer {
  readonly handle?: unknown;
  readonly route?: ExpressRoute;
  match?(path: string): boolean;
}

/** body-parser's middlewares, as Nest registers them (`json`, `urlencoded`, `raw`, `text`). */
const BODY_PARSER_NAMES: ReadonlySet<string> = new Set(['jsonParser', 'urlencodedParser', 'rawParser', 'textParser']);

function isBodyParser(handle: unknown): boolean {
  return typeof handle === 'function' && BODY_PARSER_NAMES.has(handle.name);
}

/** The part of an Express application used here (Express 5 `router`, Express 4 `_router`). */
interface ExpressApp {
  readonly router?: { stack: ExpressLayer[] };
  readonly _router?: { stack: ExpressLayer[] };
  use(
    handler: (
      req: ExpressIncoming,
      res: ServerResponse & { status(code: number): { json(body: unknown): unknown } },
      next: () => void,
    ) => void,
  ): unknown;
}

/** Node's request as an Express middleware at the front of the stack receives it. */
type ExpressIncoming = IncomingMessage & { raw?: undefined; baseUrl?: string; originalUrl?: string };

/** The part of a Fastify instance used here, described rather than imported: fastify is not a dependency of this package. */
interface FastifyHooks {
  addHook(
    name: 'onRequest',
    hook: (
      request: {
        raw: IncomingMessage;
        headers: IncomingMessage['headers'];
        method?: string;
        url?: string;
        originalUrl?: string;
        routeOptions?: { url?: unknown; handler?: object };
      },
      reply: { code(status: number): { send(body: unknown): unknown } },
      done: () => void,
    ) => void,
  ): unknown;
}

/**
 * The one Express route that can serve this request (path and method), or undefined when none or
 * several can: then which one does is decided later (a host or version filter passes it on).
 */
function onlyRouteFor(router: { stack: ExpressLayer[] }, req: IncomingMessage): ExpressRoute | undefined {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  let found: ExpressRoute | undefined;
  for (const layer of router.stack) {
    const route = layer?.route;
    if (!route || typeof layer.match !== 'function') continue;
    let matches: boolean;
    try {
      matches = layer.match(path) && route._handlesMethod(req.method);
    } catch {
      return undefined;
    }
    if (!matches) continue;
    if (found) return undefined;
    found = route;
  }
  return found;
}
