import { Logger, type CanActivate, type ExecutionContext, type NestInterceptor, type Type } from '@nestjs/common';
import { EXCEPTION_FILTERS_METADATA, GUARDS_METADATA, INTERCEPTORS_METADATA } from '@nestjs/common/constants.js';
import { LogLine } from '../logging/log-line.js';
import { EventRefusalFilter } from './event-refusal.filter.js';
import { UnverifiedMessageCheck } from './unverified-message-check.js';

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
 * enhancers written onto it belong to one ServiceAuthModule. While a second live module uses the
 * class, neither module's guard stays on it (it would verify the other application's messages with
 * its own callers and nonce store): the class gets the check that refuses a message no
 * ServiceAuthGuard verified, so an application whose microservice inherits its configuration still
 * verifies with its own global guard, and one that does not refuses its messages (a warning at
 * start-up names the controller and the fix). A module removes what it bound when its application
 * closes, and the module left gets its own enhancers back.
 */
export function bindMessageEnhancers(controllers: readonly Type[], enhancers: MessageEnhancers): MessageEnhancerBinding {
  const binding = new MessageEnhancerBinding(controllers, enhancers);
  markBound(enhancers.interceptor);
  for (const controller of controllers) {
    const live = owners.get(controller) ?? new Set<MessageEnhancerBinding>();
    owners.set(controller, live.add(binding));
    if (live.size > 1) {
      new Logger('ServiceAuth').warn(
        new LogLine({
          event: 'service_auth_shared_message_controller',
          message:
            `The controller ${controller.name} has message handlers and is used by another running application in this process: ` +
            'its messages are verified only by a ServiceAuthGuard the microservice inherits, and refused (caller_unverified) otherwise. ' +
            'Connect the microservice with { inheritAppConfig: true }, or run one application per process.',
        }),
      );
    }
    apply(controller, live.size > 1 ? { guard: undefined, interceptor: enhancers.interceptor, unverifiedCheck: true } : enhancers);
  }
  return binding;
}

export interface MessageEnhancers {
  /** The module's guard, when it is global; undefined with `guard: 'manual'`. */
  readonly guard: CanActivate | undefined;
  readonly interceptor: NestInterceptor;
  /** With `guard: 'manual'`: refuse a message that no ServiceAuthGuard verified (UnverifiedMessageCheck). */
  readonly unverifiedCheck: boolean;
}

/** What one ServiceAuthModule bound; released when its application closes. */
export class MessageEnhancerBinding {
  constructor(
    private readonly controllers: readonly Type[],
    readonly enhancers: MessageEnhancers,
  ) {}

  release(): void {
    for (const controller of this.controllers) {
      const live = owners.get(controller);
      if (!live?.delete(this)) continue;
      const [left] = live;
      if (live.size === 1 && left) apply(controller, left.enhancers);
      else if (live.size === 0)
        for (const key of [GUARDS_METADATA, INTERCEPTORS_METADATA, EXCEPTION_FILTERS_METADATA]) write(key, controller, [], [], isBound);
    }
  }

  onModuleDestroy(): void {
    this.release();
  }
}

/** The live modules that bound each controller's enhancers. */
const owners = new WeakMap<Type, Set<MessageEnhancerBinding>>();

/** Stateless: one for every controller. */
const UNVERIFIED_MESSAGE_CHECK = new UnverifiedMessageCheck();

/** Writes these enhancers onto the controller, replacing (never keeping) any bound earlier. */
function apply(controller: Type, enhancers: MessageEnhancers): void {
  const guard = enhancers.guard ? new MessageGuard(enhancers.guard) : undefined;
  write(GUARDS_METADATA, controller, guard ? [guard] : [], [], isBound);
  write(
    INTERCEPTORS_METADATA,
    controller,
    [enhancers.interceptor, ...(enhancers.unverifiedCheck ? [UNVERIFIED_MESSAGE_CHECK] : [])],
    [],
    isBound,
  );
  write(EXCEPTION_FILTERS_METADATA, controller, [], [EVENT_REFUSAL_FILTER], isBound);
}

/** Stateless: one for every controller. */
const EVENT_REFUSAL_FILTER = new EventRefusalFilter();

/** Enhancers of this library's, on any controller (whichever module bound them). */
const boundEnhancers = new WeakSet<object>([EVENT_REFUSAL_FILTER, UNVERIFIED_MESSAGE_CHECK]);

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
