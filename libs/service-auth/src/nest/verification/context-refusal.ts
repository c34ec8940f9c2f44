import { REASON_STATUS, type ReasonCode } from '../../errors/reason-codes.js';
import { ServiceAuthException } from './service-auth.exception.js';

/**
 * How a refusal reaches the caller on each kind of execution context, so that it carries the same
 * stable reason everywhere: an HTTP answer (ServiceAuthException), a GraphQL error whose extensions
 * hold `reason` and `status`, an RpcException or a WsException holding `{ status, reason, message }`.
 */

/** A refusal in a resolver: graphql-js copies `extensions` from the error a resolver throws into the GraphQL error. */
export class ServiceAuthGraphQLException extends ServiceAuthException {
  readonly extensions: { readonly reason: string; readonly status: number };

  constructor(reason: ServiceAuthException['reason'], message: string) {
    super(reason, message);
    this.extensions = { reason, status: REASON_STATUS[reason] };
  }
}

/** The guard's refusal of a resolver: the same reason and message, as a GraphQL error. */
export function asGraphQLRefusal(error: unknown): unknown {
  return error instanceof ServiceAuthException && !(error instanceof ServiceAuthGraphQLException)
    ? new ServiceAuthGraphQLException(error.reason, error.message)
    : error;
}

const UNVERIFIED_MESSAGES: Record<string, string> = {
  ws: 'WebSocket messages are not verified, and this handler is not public. Mark it @PublicRoute() to accept unauthenticated messages.',
  graphql:
    'GraphQL operations outside an HTTP request (subscriptions, operations over a WebSocket) are not verified, and this resolver is not public. ' +
    'Mark it @PublicRoute() to accept unauthenticated operations.',
};

/**
 * The refusal of a handler that is not public, served by a context the library does not verify.
 * @nestjs/microservices and @nestjs/websockets are loaded only here (optional peers): an app with
 * such a context has them installed, and the library's entry points load without them.
 */
export async function unverifiedContextRefusal(type: string): Promise<Error> {
  const reason = 'context_unsupported';
  const message =
    UNVERIFIED_MESSAGES[type] ??
    `Requests of context type "${type}" are not verified, and this handler is not public. Mark it @PublicRoute() to accept unauthenticated requests.`;
  const error = { status: REASON_STATUS[reason], reason, message };
  if (type === 'rpc') return new (await import('@nestjs/microservices')).RpcException(error);
  if (type === 'ws') return new (await import('@nestjs/websockets')).WsException(error);
  if (type === 'graphql') return new ServiceAuthGraphQLException(reason, message);
  return new ServiceAuthException(reason, message);
}

/** A message's refusal, as the `send()` caller receives it: an RpcException holding `{ status, reason, message }`. */
export async function messageRefusal(reason: ReasonCode, message: string): Promise<Error> {
  return new (await import('@nestjs/microservices')).RpcException({ status: REASON_STATUS[reason], reason, message });
}
