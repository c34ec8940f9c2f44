import type { ExecutionContext } from '@nestjs/common';
import type { ServiceAuthRequest } from '../adapters/service-auth-request.js';

/**
 * The route a request matched, as declared (`/api/inventory/:productId`), for metrics: a bounded set
 * of values that never carries an id from the path or the query. Express keeps it on `req.route`,
 * Fastify on `req.routeOptions`; a request reaching a guard has always matched a route, but should
 * neither be known the handler (`InventoryController.get`) stands in for it.
 */
export function routePattern(context: ExecutionContext, req: ServiceAuthRequest): string {
  return declaredRouteOf(req) ?? `${context.getClass().name}.${context.getHandler().name}`;
}

/** The route pattern the adapter matched the request to, when it says (routePattern, without a handler to fall back on). */
export function declaredRouteOf(req: ServiceAuthRequest): string | undefined {
  const express = 'route' in req ? req.route?.path : undefined;
  if (typeof express === 'string') return express;
  const fastify = 'routeOptions' in req ? req.routeOptions?.url : undefined;
  return typeof fastify === 'string' ? fastify : undefined;
}
