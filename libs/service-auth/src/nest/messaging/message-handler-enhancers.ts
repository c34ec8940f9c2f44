import type { CanActivate, ExecutionContext, NestInterceptor, Type } from '@nestjs/common';
import { EXCEPTION_FILTERS_METADATA, GUARDS_METADATA, INTERCEPTORS_METADATA } from '@nestjs/common/constants.js';
import { EventRefusalFilter } from './event-refusal.filter.js';

/**
 * The guard, the answer interceptor and the filter that ends a refused event quietly
 * (EventRefusalFilter), bound to every controller that has message handlers.
 *
 * Why: a hybrid application's microservice (`app.connectMicroservice(options)` without
 * `{ inheritAppConfig: true }`) does not run the app's global guards and interceptors (APP_GUARD,
 * APP_INTERCEPTOR), so its message handlers would run unverified and answer unsigned. Enhancers bound
 * to the controller run whatever the microservice inherits.
 *
 * How: as @UseGuards() and @UseInterceptors() write them, controller metadata holding instances (Nest
 * resolves a class named there only if its own module registered it when it scanned). Written while
 * ServiceAuthModule's providers are created, so during `NestFactory.create()` /
 * `createMicroservice()`: before `connectMicroservice()` or `listen()` reads the handlers' enhancers.
 * Put first, so they run before the controller's own guards and interceptors (the interceptor
 * outermost: it signs the final value). When the app's configuration is inherited they run twice;
 * the second run is the already-verified path (message-verifications.ts) and the interceptor's
 * second run lets the signed answer through.
 *
 * The guard bound here acts on messages only: the controller's HTTP routes keep the global guard
 * alone (a second verification of one request would find its nonce claimed).
 *
 * A controller class is shared by every application built from it in one process: the last
 * ServiceAuthModule created binds its enhancers, and an application reads them when it registers its
 * handlers (so applications created and started one after the other each get their own).
 */
export function bindMessageEnhancers(controllers: readonly Type[], guard: CanActivate | undefined, interceptor: NestInterceptor): void {
  const enhancers: Bound = { guard: guard && new MessageGuard(guard), interceptor };
  for (const controller of controllers) {
    if (enhancers.guard) prepend(GUARDS_METADATA, controller, enhancers.guard, isBoundGuard);
    prepend(INTERCEPTORS_METADATA, controller, interceptor, (value) => value instanceof interceptor.constructor);
    prepend(EXCEPTION_FILTERS_METADATA, controller, EVENT_REFUSAL_FILTER, (value) => value instanceof EventRefusalFilter);
  }
}

/** Stateless: one for every controller. */
const EVENT_REFUSAL_FILTER = new EventRefusalFilter();

interface Bound {
  guard: MessageGuard | undefined;
  interceptor: NestInterceptor;
}

/** The module's guard for microservice contexts only; every other context is the global guard's. */
class MessageGuard implements CanActivate {
  constructor(private readonly guard: CanActivate) {}

  canActivate(context: ExecutionContext): ReturnType<CanActivate['canActivate']> {
    return context.getType() === 'rpc' ? this.guard.canActivate(context) : true;
  }
}

function isBoundGuard(value: unknown): boolean {
  return value instanceof MessageGuard;
}

/** `value` first in the controller's enhancers, replacing one an earlier module bound. */
function prepend(key: string, controller: Type, value: object, boundEarlier: (value: unknown) => boolean): void {
  const current = (Reflect.getMetadata(key, controller) as unknown[] | undefined) ?? [];
  Reflect.defineMetadata(key, [value, ...current.filter((entry) => !boundEarlier(entry))], controller);
}
