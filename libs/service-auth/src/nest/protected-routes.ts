/**
 * The routes of the HTTP adapter (Express `Route` objects, Fastify route handlers) on which
 * ServiceAuthGuard has refused a request for its API key: routes that need a caller. The early
 * API-key check (ApiKeyPrecheckRegistrar) refuses, on those routes only, a stranger's request before
 * its body is read.
 *
 * Learnt from the guard rather than worked out at start-up: the guard's own decision (route
 * metadata, handler over controller) is the only one that counts, and which adapter route serves
 * which handler is only known once a request has been routed. A route is learnt on its first refusal
 * for an API key; until then (and on public routes, never learnt) every request goes to the guard as
 * before. Entries go with the adapter's routes (held weakly).
 */
const protectedRoutes = new WeakSet<object>();

/** The adapter's route object a routed request was matched to: Express `req.route`, Fastify `req.routeOptions.handler`. */
export function adapterRouteOf(req: AdapterRoutedRequest): object | undefined {
  const route = req.route ?? req.routeOptions?.handler;
  return route !== null && (typeof route === 'object' || typeof route === 'function') ? route : undefined;
}

/** Called by the guard when it refuses a request on `req`'s route for a missing or unknown API key. */
export function rememberProtectedRoute(req: AdapterRoutedRequest): void {
  const route = adapterRouteOf(req);
  if (route) protectedRoutes.add(route);
}

export function isKnownProtectedRoute(route: object | undefined): boolean {
  return route !== undefined && protectedRoutes.has(route);
}

/** A routed request: Express sets `route`, Fastify `routeOptions.handler`. */
interface AdapterRoutedRequest {
  readonly route?: unknown;
  readonly routeOptions?: { readonly handler?: unknown };
}
