import type { ExecutionContext } from '@nestjs/common';
import { nodeRequest, type ServiceAuthRequest } from '../adapters/service-auth-request.js';

/**
 * The HTTP request behind an execution context, when the library can verify one:
 * - `http`: the adapter's request;
 * - `graphql` over HTTP: the request the GraphQL driver put in its context (`{ req }` with Apollo on
 *   Express and Fastify alike, `{ request }` in some custom contexts);
 * - anything else (microservice messages, WebSocket messages, GraphQL subscriptions, GraphQL
 *   operations over a WebSocket, a custom context type): none, the library does not verify them.
 *
 * Duck-typed on purpose: the library does not depend on @nestjs/graphql.
 */
export type ContextRequest =
  | { readonly kind: 'http'; readonly req: ServiceAuthRequest }
  | { readonly kind: 'graphql'; readonly req: ServiceAuthRequest }
  | { readonly kind: 'unverified'; readonly type: string };

export function contextRequestOf(context: ExecutionContext): ContextRequest {
  const type = context.getType<string>();
  if (type === 'http') return { kind: 'http', req: context.switchToHttp().getRequest<ServiceAuthRequest>() };
  if (type === 'graphql') {
    const req = graphqlHttpRequest(context);
    if (req) return { kind: 'graphql', req };
  }
  return { kind: 'unverified', type };
}

/** A resolver's arguments are (root, args, context, info). */
const GRAPHQL_CONTEXT_INDEX = 2;
const GRAPHQL_INFO_INDEX = 3;

function graphqlHttpRequest(context: ExecutionContext): ServiceAuthRequest | undefined {
  // A subscription's messages arrive over a socket after the handshake: none of them is a signed request.
  const info = context.getArgByIndex<{ operation?: { operation?: unknown } } | undefined>(GRAPHQL_INFO_INDEX);
  if (info?.operation?.operation === 'subscription') return undefined;
  const gqlContext = context.getArgByIndex<{ req?: unknown; request?: unknown } | undefined>(GRAPHQL_CONTEXT_INDEX);
  if (typeof gqlContext !== 'object' || gqlContext === null) return undefined;
  for (const candidate of [gqlContext.req, gqlContext.request]) {
    if (isHttpRequest(candidate)) return isUpgrade(candidate) ? undefined : candidate;
  }
  return undefined;
}

/**
 * Whether the request asked to switch protocols (a WebSocket handshake, say). Over graphql-ws, an app
 * that puts the handshake in its context (`req: req ?? extra.request`, to see headers in both
 * transports) hands every operation the one HTTP request of the socket: GET /graphql, no body. Its
 * signature covers none of the operations, which travel in WebSocket frames, so it must not authorise
 * them. A request whose body carries the operation never asks to upgrade.
 */
function isUpgrade(req: ServiceAuthRequest): boolean {
  const headers = nodeRequest(req).headers;
  if (headers.upgrade !== undefined) return true;
  const connection = headers.connection;
  return (connection ?? '')
    .toLowerCase()
    .split(',')
    .some((token) => token.trim() === 'upgrade');
}

/** Node's request (Express) or one wrapping it in `raw` (Fastify): in both, headers and a method. */
function isHttpRequest(value: unknown): value is ServiceAuthRequest {
  if (typeof value !== 'object' || value === null) return false;
  const req = value as { headers?: unknown; method?: unknown; raw?: { headers?: unknown } };
  return (
    typeof req.headers === 'object' && req.headers !== null && (typeof req.method === 'string' || typeof req.raw?.headers === 'object')
  );
}
