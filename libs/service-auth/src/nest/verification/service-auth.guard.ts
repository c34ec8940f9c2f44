import { Inject, Injectable, Logger, Optional, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { HttpMessage } from '../../protocol/http-message.js';
import type { RequestVerifier, TrustPolicy, VerifiedRequest } from '../../protocol/request-verifier.js';
import { checkRoutedHost, checkRoutedTarget } from '../../protocol/request-target.js';
import { ServiceAuthError } from '../../errors/service-auth.error.js';
import type { VerificationEvent, VerificationObserver } from '../../metrics/verification-observer.js';
import {
  ENCRYPTION_POLICY_METADATA,
  REQUEST_VERIFIER,
  RESOLVED_OPTIONS,
  VERIFICATION_OBSERVER,
  VERIFIED_CALLER_PROPERTY,
} from '../options/service-auth.constants.js';
import { ServiceAuthException } from './service-auth.exception.js';
import { ServiceAuthKeys } from '../service-auth-keys.service.js';
import type { EncryptionPolicy } from '../options/service-auth-options.interface.js';
import { rawBodyNow } from '../adapters/raw-body.js';
import { requestMessage } from '../adapters/request-message.js';
import { mountPointOf, nodeRequest, type ServiceAuthRequest } from '../adapters/service-auth-request.js';
import { RefusalLog } from '../logging/refusal-log.js';
import { readRouteAccess, type RouteAccess } from './route-access.js';
import { setVerifiedRequest } from './verified-request.js';
import { RoutingComponents } from './routing-components.js';
import { declaredRouteOf, routePattern } from './route-pattern.js';
import { contextRequestOf } from './execution-context-request.js';
import { versionReadsOf } from './version-reads.js';
import { asGraphQLRefusal, messageRefusal, unverifiedContextRefusal } from './context-refusal.js';
import { incomingMessageOf, type IncomingMessageView } from '../messaging/incoming-message.js';
import { setVerifiedMessage } from '../messaging/verified-messages.js';
import { messageVerificationOf, setMessageVerification } from '../messaging/message-verifications.js';
import { unwrapPublicMessage } from '../messaging/public-message.js';
import { acceptMessage, verifyMessageSignature, type SignedMessage, type VerifiedMessage } from '../../messages/message-verifier.js';
import { envelopeFields, hasEnvelopeShape } from '../../messages/message-envelope.js';
import type { IncomingMessage } from 'node:http';
import type { VerifiedCaller } from '../../protocol/verified-caller.js';
import type { ResolvedServiceAuthOptions } from '../options/resolved-options.js';
import { encryptionKeyOf } from '../../keys/key-ring.js';

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
   * One HTTP request can run several resolvers (one per root field): it is verified (and its nonce
   * claimed) once, by the first, and the others share the outcome.
   */
  private readonly graphqlVerifications = new WeakMap<IncomingMessage, Promise<VerifiedCaller>>();
  private readonly defaultEncryption: EncryptionPolicy;

  constructor(
    protected readonly reflector: Reflector,
    protected readonly keys: ServiceAuthKeys,
    @Inject(REQUEST_VERIFIER) protected readonly verifier: RequestVerifier,
    @Inject(RESOLVED_OPTIONS) options: ResolvedServiceAuthOptions,
    /** The `metrics` option's observer; null (metrics off) costs one null check per request. */
    @Optional() @Inject(VERIFICATION_OBSERVER) protected readonly observer: VerificationObserver | null = null,
    /** Where refusals are logged (the module's; one of the guard's own when constructed without it). */
    @Optional() @Inject(RefusalLog) refusalLog: RefusalLog | null = null,
    /** The inputs Nest routes by that every signature must cover (the module's; none without it). */
    @Optional() @Inject(RoutingComponents) protected readonly routing: RoutingComponents | null = null,
  ) {
    this.refusalLog = refusalLog ?? new RefusalLog(options);
    this.maxBodyBytes = options.maxBodyBytes;
    this.defaultEncryption = options.encryption;
  }

  /**
   * Verifies every HTTP route that is not public (and GraphQL over HTTP, see activateOutsideHttp);
   * refuses every other context's handlers that are not public.
   */
  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return this.activateOutsideHttp(context);
    const route = this.routeOf(context);
    if (route.public) return true;

    const req = context.switchToHttp().getRequest<ServiceAuthRequest>();
    const started = this.observer ? performance.now() : 0;
    let verified: VerifiedRequest;
    try {
      const message = requestMessage(req);
      // Target and Content-Encoding before the body is read; then the URL the router chose this
      // handler by must be the target that will be verified (or, under an Express mount point,
      // exactly what Express says it left of it), and so must the host of a host-scoped controller.
      this.verifier.precheck(message);
      checkRoutedTarget(message.target, nodeRequest(req).url, mountPointOf(req));
      const routedHost = this.routing?.routedHostOf(req);
      if (routedHost !== undefined) checkRoutedHost(message.authority, routedHost);
      const body = await rawBodyNow(req, this.maxBodyBytes);
      verified = await this.verify(req, message, body, route);
    } catch (err) {
      return this.refuse(context, req, started, err);
    }
    return this.accept(context, req, verified, started);
  }

  /**
   * GraphQL over HTTP is verified as its HTTP request, a microservice message as the signed request its
   * envelope holds (see activateMessage); every other context (WebSocket messages, GraphQL
   * subscriptions) is not verified, so only its public handlers run.
   */
  private activateOutsideHttp(context: ExecutionContext): true | Promise<true> {
    const route = this.routeOf(context);
    if (context.getType() === 'rpc') return route.public ? unwrapPublicMessage(context) : this.activateMessage(context, route);
    if (route.public) return true;
    const target = contextRequestOf(context);
    if (target.kind === 'unverified') {
      return unverifiedContextRefusal(target.type).then((refusal) => {
        throw refusal;
      });
    }
    return this.activateResolver(context, target.req, route).catch((err: unknown) => {
      throw asGraphQLRefusal(err);
    });
  }

  /**
   * A microservice message (@MessagePattern, @EventPattern): verified as the HTTP request it is signed
   * as, with the same checks, reasons, nonce store, metrics and refusal log. Once verified, the
   * handler's data argument is the signed payload, and the message's caller is kept for @Caller() and
   * the signed answer.
   *
   * The signature is verified (and the nonce claimed) once per message, by the first guard to see it;
   * every other guard on it (the next handler of an event pattern, or a second guard on this handler:
   * global and bound to its controller) waits for that outcome (message-verifications.ts: by the
   * message's data object, never by its transport context alone). Each then
   * applies its own handler's trust list and encryption policy, and hands its handler the data.
   */
  private async activateMessage(context: ExecutionContext, route: RouteDecision): Promise<true> {
    const incoming = incomingMessageOf(context);
    const started = this.observer ? performance.now() : 0;
    const args = context.getArgs();
    const earlier = messageVerificationOf(incoming.data, args);
    let signed: SignedMessage;
    if (earlier) {
      try {
        signed = await earlier;
      } catch (err) {
        // Refused where it was verified, and logged and counted there: one message, one refusal line.
        if (!(err instanceof ServiceAuthError)) throw err;
        throw await messageRefusal(err.reason, err.message, incoming.kind);
      }
    } else {
      const verification = this.verifyMessageOnce(incoming);
      setMessageVerification(incoming.data, args, verification);
      try {
        signed = await verification;
      } catch (err) {
        return this.refuseMessage(incoming, started, err);
      }
    }
    let verified: VerifiedMessage;
    try {
      verified = acceptMessage(signed, {
        isTrusted: route.isTrusted,
        encryption: route.encryption,
        callerEncryptionKey: (callerId, keyId) => encryptionKeyOf(this.keys.ring.findCallerKey(callerId, keyId)),
        maxPayloadBytes: this.maxBodyBytes,
      });
    } catch (err) {
      return this.refuseMessage(incoming, started, err, signed.verified.caller.id);
    }
    // The handler gets the data that was signed, not its envelope: Nest hands it this argument.
    args[0] = verified.data;
    setVerifiedMessage(incoming.rpcContext, verified);
    if (this.observer && !earlier) this.reportMessage(this.observer, incoming, started, verified.caller.id);
    return true;
  }

  /** The signature checks of a message, for any configured caller (its handlers' trust lists come after). */
  private async verifyMessageOnce(incoming: IncomingMessageView): Promise<SignedMessage> {
    if (incoming.route === undefined) {
      throw new ServiceAuthError(
        'context_unsupported',
        'This transport does not say which pattern routed the message: its signature cannot be checked',
      );
    }
    return verifyMessageSignature(this.verifier, { kind: incoming.kind, route: incoming.route, data: incoming.data });
  }

  /**
   * Reports, logs (one line, bounded for strangers) and throws a message's refusal: an RpcException
   * for a `send()`, an exception Nest does not log again for an event (see messageRefusal).
   */
  private async refuseMessage(incoming: IncomingMessageView, started: number, err: unknown, verifiedCaller?: string): Promise<never> {
    const claimed = verifiedCaller ?? this.claimedMessageCaller(incoming.data);
    if (this.observer) this.reportMessage(this.observer, incoming, started, claimed, err);
    if (!(err instanceof ServiceAuthError)) throw err;
    this.refusalLog.writeMessage(err, incoming.kind, incoming.declaredPattern, () => claimed);
    throw await messageRefusal(err.reason, err.message, incoming.kind);
  }

  private reportMessage(
    observer: VerificationObserver,
    incoming: IncomingMessageView,
    started: number,
    caller: string | undefined,
    error?: unknown,
  ): void {
    try {
      const event: VerificationEvent = {
        route: incoming.declaredPattern,
        method: incoming.kind,
        caller,
        durationSeconds: (performance.now() - started) / 1000,
      };
      if (error === undefined) observer.onVerified(event);
      else if (error instanceof ServiceAuthError) observer.onRefused({ ...event, reason: error.reason, status: error.status });
      else observer.onFailed?.(event);
    } catch {
      // Metrics are best effort; the decision already stands.
    }
  }

  /** The service whose API key a message's envelope carries, for the log line; never the key itself. */
  private claimedMessageCaller(data: unknown): string | undefined {
    const apiKey = hasEnvelopeShape(data) ? envelopeFields(data.serviceAuth).get('x-api-key') : undefined;
    return apiKey === undefined ? undefined : this.keys.ring.findByApiKey(apiKey)?.callerId;
  }

  /** A resolver: its request verified once, then this resolver's own trust list applied to the caller. */
  private async activateResolver(context: ExecutionContext, req: ServiceAuthRequest, route: RouteDecision): Promise<true> {
    const started = this.observer ? performance.now() : 0;
    const policy =
      this.reflector.getAllAndOverride<EncryptionPolicy>(ENCRYPTION_POLICY_METADATA, [context.getHandler(), context.getClass()]) ??
      this.defaultEncryption;
    if (policy === 'required') {
      this.refuse(
        context,
        req,
        started,
        new ServiceAuthError('encryption_required', 'GraphQL requests are not encrypted, and this resolver requires encryption'),
      );
    }
    const node = nodeRequest(req);
    let verification = this.graphqlVerifications.get(node);
    if (!verification) {
      verification = this.verifyRequestOnce(req).then(
        (verified) => {
          setVerifiedRequest(req, verified);
          if (this.observer) this.report(this.observer, context, req, started, { accepted: true });
          return verified.caller;
        },
        (err: unknown) => this.refuse(context, req, started, err),
      );
      this.graphqlVerifications.set(node, verification);
    }
    const caller = await verification;
    if (route.isTrusted && !route.isTrusted(caller.id)) {
      this.refuse(
        context,
        req,
        started,
        new ServiceAuthError('caller_not_trusted', 'This caller is not allowed to use this resolver', `caller=${caller.id}`),
      );
    }
    return true;
  }

  /** The checks of the HTTP path, for any configured caller (a trust list is applied per resolver). */
  private async verifyRequestOnce(req: ServiceAuthRequest): Promise<VerifiedRequest> {
    const message = requestMessage(req);
    this.verifier.precheck(message);
    checkRoutedTarget(message.target, nodeRequest(req).url, mountPointOf(req));
    return this.verify(req, message, await rawBodyNow(req, this.maxBodyBytes), ANY_CALLER);
  }

  /**
   * The verifier's checks, with the components this application routes by (see RoutingComponents)
   * and the headers a custom version extractor read to choose this request's handler (VersionReads).
   */
  private verify(req: ServiceAuthRequest, message: HttpMessage, body: Buffer, route: RouteDecision): Promise<VerifiedRequest> {
    let required = this.routing?.components;
    const versionReads = versionReadsOf(nodeRequest(req));
    if (versionReads) {
      let read: readonly string[];
      try {
        read = versionReads.requiredComponents();
      } catch (err) {
        // A stranger is told about its API key first, as everywhere else.
        this.verifier.identifyCaller(message);
        throw err;
      }
      if (read.length > 0) required = [...(required ?? []), ...read];
    }
    return this.verifier.verify(message, body, { isTrusted: route.isTrusted, requiredComponents: required });
  }

  /** The request is verified: its caller (and, privately, its key) goes on the request. */
  private accept(context: ExecutionContext, req: ServiceAuthRequest, verified: VerifiedRequest, started: number): true {
    setVerifiedRequest(req, verified);
    if (this.observer) this.report(this.observer, context, req, started, { accepted: true });
    return true;
  }

  /** Reports, logs and answers a refusal (reject), or lets an unexpected error through. */
  private refuse(context: ExecutionContext, req: ServiceAuthRequest, started: number, err: unknown): never {
    if (this.observer) this.report(this.observer, context, req, started, { accepted: false, error: err });
    if (err instanceof ServiceAuthError) {
      // Retry-After only on HTTP: a GraphQL refusal travels as an error inside a 200 answer.
      if (context.getType() === 'http' && err.retryAfterSeconds !== undefined) {
        setRetryAfter(context.switchToHttp().getResponse<Reply>(), err.retryAfterSeconds);
      }
      this.reject(err, req);
    }
    throw err;
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
      route = {
        public: access.public,
        isTrusted: trusted && ((id: string) => trusted.has(id)),
        encryption:
          this.reflector.getAllAndOverride<EncryptionPolicy>(ENCRYPTION_POLICY_METADATA, [handler, controller]) ?? this.defaultEncryption,
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
  /** The handler's encryption policy (@EncryptedBody(), else its controller's, else the module's): read for messages. */
  encryption?: EncryptionPolicy;
}

/** A route that any configured caller may use (a resolver's own list is applied after verification). */
const ANY_CALLER: RouteDecision = { public: false };

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
