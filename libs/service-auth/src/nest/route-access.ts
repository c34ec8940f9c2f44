import type { ExecutionContext } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import { PUBLIC_ROUTE_METADATA, TRUSTED_CALLERS_METADATA } from './service-auth.constants.js';

/** What Reflector reads metadata from, as Nest types it: a class or a method. */
type MetadataTarget = Parameters<Reflector['get']>[1];

/** What a route demands: nothing (public), any configured caller, or one of a list. */
export type RouteAccess = { public: true } | { public: false; callers?: readonly string[] };

/**
 * Reads @PublicRoute() and @TrustedCaller() for a route. The handler's own declaration wins over
 * its controller's: a handler's @TrustedCaller replaces the controller's list, and overrides a
 * controller-level @PublicRoute().
 */
export function readRouteAccess(reflector: Reflector, context: ExecutionContext): RouteAccess {
  return routeAccessOf(reflector, context.getHandler(), context.getClass());
}

/** readRouteAccess for a handler and its class, outside a request (start-up checks). */
export function routeAccessOf(reflector: Reflector, handler: MetadataTarget, controller: MetadataTarget): RouteAccess {
  for (const target of [handler, controller]) {
    if (reflector.get<boolean>(PUBLIC_ROUTE_METADATA, target)) return { public: true };
    const callers = reflector.get<string[]>(TRUSTED_CALLERS_METADATA, target);
    if (callers) return { public: false, callers };
  }
  return { public: false };
}
