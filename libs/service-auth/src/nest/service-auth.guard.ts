import { Inject, Injectable, Logger, Optional, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { RequestVerifier, TrustPolicy, VerifiedRequest } from '../protocol/request-verifier.js';
import type { ResolvedKey } from '../keys/key-ring.js';
import type { VerifiedCaller } from '../protocol/verified-caller.js';
import { EncryptedExchange, mayBeEncryptedExchange, type SealedResponse } from './encrypted-exchange.js';
import { sealAnswerOf } from './sealed-answer.registrar.js';
import { checkRoutedTarget } from '../protocol/request-target.js';
import { ServiceAuthError } from '../errors/service-auth.error.js';
import type { VerificationEvent, VerificationObserver } from '../metrics/verification-observer.js';
import { REQUEST_VERIFIER, RESOLVED_OPTIONS, VERIFICATION_OBSERVER, VERIFIED_CALLER_PROPERTY } from './service-auth.constants.js';
import { ServiceAuthException } from './service-auth.exception.js';
import { ServiceAuthKeys } from './service-auth-keys.service.js';
import type { EncryptionPolicy } from './service-auth-options.interface.js';
import { rawBodyNow } from './raw-body.js';
import { requestMessage } from './request-message.js';
import { mountPointOf, nodeRequest, type ServiceAuthRequest } from './service-auth-request.js';
import { RefusalLog } from './refusal-log.js';
import { readRouteAccess, type RouteAccess } from './route-access.js';
import { rememberVerifiedKey } from './verified-key.js';
import { rememberProtectedRoute } from './protected-routes.js';
import { declaredRouteOf, routePattern } from './route-pattern.js';
import type { ResolvedServiceAuthOptions } from './resolved-options.js';

/**
 * Installed globally unless the module's `guard` option says otherwise. Secure by default: every
 * HTTP route needs an authenticated caller unless marked @PublicRoute(); with no callers configured,
 * every such route is refused. Extend it and override `routeAccess` or `reject` to change how routes
 * are classified or refusals are reported (register the subclass yourself with `guard: 'manual'`).
 */
@Injectable()
export class ServiceAuthGuard implements CanActivate {
  /** For subclasses (an overridden `reject`, say); the guard's own refusals are logged through `refusalLog`. */
  protected readonly logger = new Logger('ServiceAuth');
  protected readonly refusalLog: RefusalLog;
  private readonly maxBodyBytes: number;
  private readonly routes = new WeakMap<object, WeakMap<object, RouteDecision>>();
  /**
   * Installed globally (the default), the guard also runs the encrypted exchange of every route, and
   * the module installs no interceptor: a plaintext exchange then costs nothing for encryption.
   * Otherwise EncryptedExchangeInterceptor does it, and this stays undefined.
   */
  private readonly exchange?: EncryptedExchange;

  constructor(
    protected readonly reflector: Reflector,
    protected readonly keys: ServiceAuthKeys,
    @Inject(REQUEST_VERIFIER) protected readonly verifier: RequestVerifier,
    @Inject(RESOLVED_OPTIONS) options: ResolvedServiceAuthOptions,
    /** The `metrics` option's observer; null (metrics off) costs one null check per request. */
    @Optional() @Inject(VERIFICATION_OBSERVER) protected readonly observer: VerificationObserver | null = null,
    /** Where refusals are logged (the module's; one of the guard's own when constructed without it). */
    @Optional() @Inject(RefusalLog) refusalLog: RefusalLog | null = null,
  ) {
    this.refusalLog = refusalLog ?? new RefusalLog(options);
    this.maxBodyBytes = options.maxBodyBytes;
    if (options.guard === 'global') this.exchange = new EncryptedExchange(keys, options);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const route = this.routeOf(context);
    if (route.public) {
      // An encrypted body on a public route is refused (no caller to decrypt for), as is a plaintext
      // one where encryption is required.
      if (
        route.encryption === 'required' ||
        (route.encryption !== undefined && mayBeEncryptedExchange(context.switchToHttp().getRequest<ServiceAuthRequest>()))
      ) {
        this.beginExchange(context, route, route.encryption, undefined, undefined);
      }
      return true;
    }

    const req = context.switchToHttp().getRequest<ServiceAuthRequest>();
    const started = this.observer ? performance.now() : 0;
    let verified: VerifiedRequest;
    try {
      const message = requestMessage(req);
      // Target and Content-Encoding before the body is read; then the URL the router chose this
      // handler by must be the target that will be verified (or, under an Express mount point,
      // exactly what Express says it left of it).
      this.verifier.precheck(message);
      checkRoutedTarget(message.target, nodeRequest(req).url, mountPointOf(req));
      const body = await rawBodyNow(req, this.maxBodyBytes);
      verified = await this.verifier.verify(message, body, { isTrusted: route.isTrusted });
    } catch (err) {
      return this.refuse(context, req, started, err);
    }
    // Outside the try: what accept() refuses (a malformed encrypted body) concerns the body, not the
    // caller, and is neither a refusal of the caller nor an unexpected error.
    return this.accept(context, req, route, verified, started);
  }

  /** The request is verified: the caller goes on the request, the encrypted exchange (if any) begins. */
  private accept(
    context: ExecutionContext,
    req: ServiceAuthRequest,
    route: RouteDecision,
    verified: VerifiedRequest,
    started: number,
  ): true {
    req[VERIFIED_CALLER_PROPERTY] = verified.caller;
    if (this.observer) this.report(this.observer, context, req, started, { accepted: true });
    // What follows concerns the request's body and answer, not who sent it (not a refusal of the
    // caller: neither logged as one nor counted).
    if (route.encryption !== undefined) {
      // On a plaintext exchange with a route that does not require encryption there is nothing to do.
      if (route.encryption === 'required' || mayBeEncryptedExchange(req))
        this.beginExchange(context, route, route.encryption, verified.caller, verified.key);
    }
    // EncryptedExchangeInterceptor runs the exchange instead: it needs the key the request was verified
    // with, so that the answer does not depend on that key surviving a reload.
    else if (!this.exchange && mayBeEncryptedExchange(req)) rememberVerifiedKey(req, verified.key);
    return true;
  }

  /** Reports, logs and answers a refusal (reject), or lets an unexpected error through. */
  private refuse(context: ExecutionContext, req: ServiceAuthRequest, started: number, err: unknown): never {
    if (this.observer) this.report(this.observer, context, req, started, { accepted: false, error: err });
    if (err instanceof ServiceAuthError) {
      // A stranger on this route: from now on such requests are refused before their body is read.
      if (err.reason === 'api_key_missing' || err.reason === 'api_key_invalid') rememberProtectedRoute(req);
      if (err.retryAfterSeconds !== undefined) setRetryAfter(context.switchToHttp().getResponse<Reply>(), err.retryAfterSeconds);
      this.reject(err, req);
    }
    throw err;
  }

  /** The encrypted exchange's work before the handler, and its answer marked for sealing when it must be. */
  private beginExchange(
    context: ExecutionContext,
    route: RouteDecision,
    policy: EncryptionPolicy,
    caller: VerifiedCaller | undefined,
    key: ResolvedKey | undefined,
  ): void {
    const http = context.switchToHttp();
    const res = http.getResponse<SealedResponse & object>();
    const seal = this.exchange!.begin(http.getRequest<ServiceAuthRequest>(), res, policy, caller, key, route.writesResponse);
    if (seal) sealAnswerOf(res, seal);
  }

  /**
   * Tells the `metrics` observer how the request was decided. Only bounded values (route pattern,
   * method, configured caller id, reason code); a failing observer must neither refuse a request
   * nor hide a refusal, so its errors stop here.
   */
  private report(
    observer: VerificationObserver,
    context: ExecutionContext,
    req: ServiceAuthRequest,
    started: number,
    decision: { accepted: true } | { accepted: false; error: unknown },
  ): void {
    const durationSeconds = (performance.now() - started) / 1000;
    try {
      const event: VerificationEvent = {
        route: routePattern(context, req),
        method: typeof req.method === 'string' ? req.method : 'UNKNOWN',
        caller: req[VERIFIED_CALLER_PROPERTY]?.id ?? (decision.accepted ? undefined : this.claimedCaller(req)),
        durationSeconds,
      };
      if (decision.accepted) observer.onVerified(event);
      else if (decision.error instanceof ServiceAuthError)
        observer.onRefused({ ...event, reason: decision.error.reason, status: decision.error.status });
      else observer.onFailed?.(event);
    } catch {
      // Metrics are best effort; the decision already stands.
    }
  }

  /**
   * Route metadata is fixed once the application is up, so each route is classified once, on its
   * first request, rather than read back through the Reflector on every request.
   */
  private routeOf(context: ExecutionContext): RouteDecision {
    const controller = context.getClass();
    const handler = context.getHandler();
    let routes = this.routes.get(controller);
    if (!routes) this.routes.set(controller, (routes = new WeakMap()));
    let route = routes.get(handler);
    if (!route) {
      const access = this.routeAccess(context);
      const trusted = !access.public && access.callers ? new Set(access.callers) : undefined;
      const policy = this.exchange?.policyOf(this.reflector, context);
      route = {
        public: access.public,
        isTrusted: trusted && ((id: string) => trusted.has(id)),
        encryption: policy === 'off' ? undefined : policy,
        writesResponse: this.exchange !== undefined && policy !== 'off' && this.exchange.writesResponse(context),
      };
      routes.set(handler, route);
    }
    return route;
  }

  /** The handler's own declaration wins over its controller's (see readRouteAccess). */
  protected routeAccess(context: ExecutionContext): RouteAccess {
    return readRouteAccess(this.reflector, context);
  }

  /**
   * Logs the refusal as one line (no secret, no query, no body; see LogLine) and answers with its
   * stable reason.
   */
  protected reject(error: ServiceAuthError, req: ServiceAuthRequest): never {
    this.refusalLog.write(req, error, declaredRouteOf(req), () => (req[VERIFIED_CALLER_PROPERTY] ? undefined : this.claimedCaller(req)));
    throw new ServiceAuthException(error.reason, error.message);
  }

  /** The service an API key belongs to, for the log line; never the key itself. */
  private claimedCaller(req: ServiceAuthRequest): string | undefined {
    const apiKey = req.headers?.['x-api-key'];
    return typeof apiKey === 'string' ? this.keys.ring.findByApiKey(apiKey)?.callerId : undefined;
  }
}

/** What the guard decided about a route on its first request (route metadata does not change). */
interface RouteDecision {
  public: boolean;
  isTrusted?: TrustPolicy;
  /** The route's encryption policy when the guard runs its encrypted exchange and it is not 'off'. */
  encryption?: EncryptionPolicy;
  /** Whether the handler writes its own response (`@Res()` without passthrough): its answer is not sealed. */
  writesResponse: boolean;
}

/** An Express response has `header` and Node's `setHeader`; a Fastify reply has `header`. */
interface Reply {
  header?(name: string, value: string): unknown;
  setHeader?(name: string, value: string): unknown;
}

/** `Retry-After` (seconds) on an Express response or a Fastify reply; the refusal's body is written later by Nest. */
function setRetryAfter(res: Reply | undefined, seconds: number): void {
  if (typeof res?.header === 'function') res.header('Retry-After', String(seconds));
  else if (typeof res?.setHeader === 'function') res.setHeader('Retry-After', String(seconds));
}
