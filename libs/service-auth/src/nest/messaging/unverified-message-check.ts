import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { from, mergeMap, throwError, type Observable } from 'rxjs';
import { messageRefusal } from '../verification/context-refusal.js';
import { readRouteAccess } from '../verification/route-access.js';
import { incomingMessageOf } from './incoming-message.js';
import { verifiedMessageOf } from './verified-messages.js';

/**
 * With `guard: 'manual'`: refuses (401 `caller_unverified`) a message to a handler that is not
 * @PublicRoute() when no ServiceAuthGuard verified it.
 *
 * Why: the app installs ServiceAuthGuard itself (APP_GUARD, @UseGuards), and a hybrid app's
 * microservice without `inheritAppConfig: true` runs none of its global guards, so its handlers
 * would run unverified. An interceptor, bound to the controller: it runs after every guard (the
 * app's global, controller and method guards alike), so a ServiceAuthGuard anywhere in front of the
 * handler has verified the message by then.
 */
@Injectable()
export class UnverifiedMessageCheck implements NestInterceptor {
  private readonly reflector = new Reflector();

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'rpc' || readRouteAccess(this.reflector, context).public) return next.handle();
    const incoming = incomingMessageOf(context);
    if (verifiedMessageOf(incoming.rpcContext, incoming.data)) return next.handle();
    const refusal = messageRefusal(
      'caller_unverified',
      'This handler needs a verified caller, and no ServiceAuthGuard verified the message (guard: "manual")',
      incoming.kind,
    );
    return from(refusal).pipe(mergeMap((error) => throwError(() => error)));
  }
}
