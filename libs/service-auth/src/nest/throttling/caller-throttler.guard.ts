import { Injectable, Logger, Optional, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  type ThrottlerLimitDetail,
  type ThrottlerModuleOptions,
  type ThrottlerRequest,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import { ThrottlerStorageUnavailableError } from '../../errors/throttler-storage-unavailable.error.js';
import { rejectionLogEntry } from '../logging/rejection-log.js';
import { readRouteAccess } from '../verification/route-access.js';
import { VERIFIED_CALLER_PROPERTY } from '../options/service-auth.constants.js';
import type { ServiceAuthRequest } from '../adapters/service-auth-request.js';
import { ServiceAuthException } from '../verification/service-auth.exception.js';
import { ServiceAuthKeys } from '../service-auth-keys.service.js';

/**
 * Rate limits per verified caller (`caller:<service id>`), not per IP: replicas of a caller share
 * one budget whatever their addresses, and callers behind one NAT or mesh proxy do not share theirs.
 * Only routes that need no caller (@PublicRoute, or a service that accepts no callers) fall back to
 * the client IP (`ip:<address>`).
 *
 * Apply it to controllers or handlers, NOT as a global guard:
 *
 *   @Controller('api/inventory')
 *   @UseGuards(CallerThrottlerGuard)   // runs after the global ServiceAuthGuard: the caller is known
 *   export class InventoryController { @Throttle({ default: { limit: 10, ttl: 1000 } }) @Post() … }
 *
 * Global guards run before controller guards, but the order of global guards from different modules
 * is not guaranteed; registered as APP_GUARD this guard could run before ServiceAuthGuard. It refuses
 * to guess then: on a route that requires a caller and has none, `getTracker` throws (500, logged)
 * instead of silently counting by IP. Limits come from `ThrottlerModule.forRoot[Async]` and
 * `@Throttle()` / `@SkipThrottle()` as usual; a `getTracker` set in the ThrottlerModule options
 * replaces this guard's tracker.
 *
 * Refusals use the library's format: 429 `{ statusCode, error, reason: 'rate_limited', message }`
 * with `Retry-After` (seconds). ThrottlerGuard sets that header before throwing (`Retry-After-<name>`
 * for a named throttler); a plain `Retry-After` is added when it did not (named throttler, or
 * `setHeaders: false`), since the protocol promises it. A storage that cannot answer
 * ({@link ThrottlerStorageUnavailableError}) gives 503 `rate_limit_unavailable` (fail closed).
 */
@Injectable()
export class CallerThrottlerGuard extends ThrottlerGuard {
  protected readonly authLogger = new Logger('ServiceAuth');

  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storageService: ThrottlerStorage,
    reflector: Reflector,
    @Optional() protected readonly keys?: ServiceAuthKeys,
  ) {
    super(options, storageService, reflector);
  }

  /** ThrottlerGuard calls it as `getTracker(req, context)`, with the HTTP request. */
  protected override async getTracker(req: ServiceAuthRequest, context?: ExecutionContext): Promise<string> {
    const callerId: unknown = req[VERIFIED_CALLER_PROPERTY]?.id;
    if (typeof callerId === 'string' && callerId.length > 0) return `caller:${callerId}`;
    if (context && this.needsNoCaller(context)) return `ip:${await super.getTracker(req)}`;
    throw new Error(
      'CallerThrottlerGuard: no verified caller on a route that requires one. Apply it with @UseGuards(CallerThrottlerGuard) ' +
        'on controllers or handlers (they run after the global ServiceAuthGuard), not as a global APP_GUARD.',
    );
  }

  /**
   * True when a request reaches the handler without a verified caller: a non-HTTP context, a service
   * that accepts no signed callers (no ServiceAuthModule, or no callers configured), or a public route (the handler's own
   * declaration winning over its controller's: readRouteAccess, as ServiceAuthGuard uses).
   */
  protected needsNoCaller(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    if (!this.keys?.inbound) return true;
    return readRouteAccess(this.reflector, context).public;
  }

  protected override async handleRequest(requestProps: ThrottlerRequest): Promise<boolean> {
    try {
      return await super.handleRequest(requestProps);
    } catch (err) {
      if (!(err instanceof ThrottlerStorageUnavailableError)) throw err;
      const req = requestProps.context.switchToHttp().getRequest<ServiceAuthRequest>();
      this.authLogger.error(rejectionLogEntry(req, 'rate_limit_unavailable', 503, undefined, { detail: err.message }));
      throw new ServiceAuthException('rate_limit_unavailable', 'Rate limiting is temporarily unavailable');
    }
  }

  protected override async throwThrottlingException(context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const { req, res } = this.getRequestResponse(context);
    const retryAfter = Math.max(1, detail.timeToBlockExpire);
    if (readHeader(res, 'retry-after') === undefined) this.setResponseHeader(res, 'Retry-After', retryAfter);
    // ThrottlerGuard types the HTTP request loosely (Record<string, any>); on this path it is one.
    this.authLogger.warn(rejectionLogEntry(req as ServiceAuthRequest, 'rate_limited', 429, undefined, { retryAfterSeconds: retryAfter }));
    throw new ServiceAuthException('rate_limited', 'Too many requests: retry after the number of seconds in Retry-After');
  }
}

/** A response header already set, on an Express response or a Fastify reply (both have getHeader). */
function readHeader(res: { getHeader?(name: string): unknown } | undefined, name: string): unknown {
  return typeof res?.getHeader === 'function' ? res.getHeader(name) : undefined;
}
