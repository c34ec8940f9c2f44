import type { ExecutionContext } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import { PUBLIC_ROUTE_METADATA, TRUSTED_CALLERS_METADATA } from '../options/service-auth.constants.js';

/** A handler or a controller class: what route metadata is declared on. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- Reflector's own type for a metadata target
export type RouteTarget = Function;

/** What a route demands: nothing (public), any configured caller, or one of a list. */
export type RouteAccess = { public: true } | { public: false; callers?: readonly string[] };

/**
 * Reads @PublicRoute() and @TrustedCaller() for a route. The handler's own declaration wins over
 * its controller's: a handler's @TrustedCaller replaces the controller's list, and overrides a
 * controller-level @PublicRoute().
 */
export function readRouteAccess(reflector: Reflector, context: ExecutionContext): RouteAccess {
  return readHandlerAccess(reflector, context.getHandler(), context.getClass());
}

/**
 * As readRouteAccess, for a handler and its controller known without a request: the table of
 * protected routes of the early stranger check reads the same declarations the guard does.
 */
export function readHandlerAccess(reflector: Reflector, handler: RouteTarget, controller: RouteTarget): RouteAccess {
  for (const target of [handler, controller]) {
    if (reflector.get<boolean>(PUBLIC_ROUTE_METADATA, target)) return { public: true };
    const callers = reflector.get<string[]>(TRUSTED_CALLERS_METADATA, target);
    if (callers) return { public: false, callers };
  }
  return { public: false };
}
