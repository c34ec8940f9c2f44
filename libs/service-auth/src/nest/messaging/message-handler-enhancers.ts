import type { CanActivate, ExecutionContext, NestInterceptor, Type } from '@nestjs/common';
import { EXCEPTION_FILTERS_METADATA, GUARDS_METADATA, INTERCEPTORS_METADATA } from '@nestjs/common/constants.js';
import { KeyConfigurationError } from '../../errors/key-configuration.error.js';
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
 * The guard and the interceptor are put first, so they run before the controller's own (the
 * interceptor outermost: it signs the final value). The filter is put last: Nest tries a controller's
 * filters from the last to the first, so a catch-all filter of the app's on the controller does not
 * take a refused event from it (a method-level catch-all filter still comes first: it must rethrow a
 * MessageEventRefusal, see isMessageEventRefusal). When the app's configuration is inherited the
 * guard and interceptor run twice; the second run is the already-verified path
 * (message-verifications.ts) and the interceptor's second run lets the signed answer through.
 *
 * The guard bound here acts on messages only: the controller's HTTP routes keep the global guard
 * alone (a second verification of one request would find its nonce claimed). With `guard: 'manual'`
 * no verifying guard is bound; a check that runs after every guard is (an interceptor: method-level
 * guards run after the controller's), refusing a message that no ServiceAuthGuard verified.
 *
 * A controller class is shared by every application built from it in one process, and the
 * enhancers written onto it belong to one ServiceAuthModule: a second live module binding the same
 * class would take over the first application's handlers. So that is refused at start-up, and a
 * module removes what it bound when its application closes.
 */
export function bindMessageEnhancers(controllers: readonly Type[], enhancers: MessageEnhancers): MessageEnhancerBinding {
  const binding = new MessageEnhancerBinding(controllers);
  markBound(enhancers.interceptor);
  if (enhancers.unverifiedCheck) markBound(enhancers.unverifiedCheck);
  for (const controller of controllers) {
    const owner = owners.get(controller);
    if (owner && owner !== binding) {
      binding.release();
      throw new KeyConfigurationError(
        `The controller ${controller.name} has message handlers and is already used by another running application's ServiceAuthModule in this process: ` +
          'the verification bound to its class would serve only one of them. Run one application per process, or close the other application first.',
      );
    }
    owners.set(controller, binding);
    const guard = enhancers.guard ? new MessageGuard(enhancers.guard) : undefined;
    // Replaced, never kept: a guard left by an earlier (closed) module must not stay.
    write(GUARDS_METADATA, controller, guard ? [guard] : [], [], isBound);
    write(
      INTERCEPTORS_METADATA,
      controller,
      [enhancers.interceptor, ...(enhancers.unverifiedCheck ? [enhancers.unverifiedCheck] : [])],
      [],
      isBound,
    );
    write(EXCEPTION_FILTERS_METADATA, controller, [], [EVENT_REFUSAL_FILTER], isBound);
  }
  return binding;
}

export interface MessageEnhancers {
  /** The module's guard, when it is global; undefined with `guard: 'manual'`. */
  readonly guard: CanActivate | undefined;
  readonly interceptor: NestInterceptor;
  /** With `guard: 'manual'`: refuses a message that no ServiceAuthGuard verified. */
  readonly unverifiedCheck?: NestInterceptor;
}

/** What one ServiceAuthModule bound; released when its application closes. */
export class MessageEnhancerBinding {
  constructor(private readonly controllers: readonly Type[]) {}

  release(): void {
    for (const controller of this.controllers) {
      if (owners.get(controller) !== this) continue;
      owners.delete(controller);
      for (const key of [GUARDS_METADATA, INTERCEPTORS_METADATA, EXCEPTION_FILTERS_METADATA]) write(key, controller, [], [], isBound);
    }
  }

  onModuleDestroy(): void {
    this.release();
  }
}

/** The live module that bound each controller's enhancers. */
const owners = new WeakMap<Type, MessageEnhancerBinding>();

/** Stateless: one for every controller. */
const EVENT_REFUSAL_FILTER = new EventRefusalFilter();

/** Enhancers of this library's, on any controller (whichever module bound them). */
const boundEnhancers = new WeakSet<object>([EVENT_REFUSAL_FILTER]);

/** The module's guard for microservice contexts only; every other context is the global guard's. */
class MessageGuard implements CanActivate {
  constructor(private readonly guard: CanActivate) {}

  canActivate(context: ExecutionContext): ReturnType<CanActivate['canActivate']> {
    return context.getType() === 'rpc' ? this.guard.canActivate(context) : true;
  }
}

/** Marks an instance as bound by this library, so that a later binding or release finds it. */
function markBound<T extends object>(value: T): T {
  boundEnhancers.add(value);
  return value;
}

function isBound(value: unknown): boolean {
  return value instanceof MessageGuard || (typeof value === 'object' && value !== null && boundEnhancers.has(value));
}

/** The controller's own enhancers, with `first` before and `last` after them, and none left from an earlier binding. */
function write(
  key: string,
  controller: Type,
  first: readonly unknown[],
  last: readonly unknown[],
  boundEarlier: (value: unknown) => boolean,
): void {
  const current =
    (Reflect.getOwnMetadata(key, controller) as unknown[] | undefined) ??
    (Reflect.getMetadata(key, controller) as unknown[] | undefined) ??
    [];
  Reflect.defineMetadata(key, [...first.filter(Boolean), ...current.filter((entry) => !boundEarlier(entry)), ...last], controller);
}
