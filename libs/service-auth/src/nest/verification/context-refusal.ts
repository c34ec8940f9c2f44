import { IntrinsicException } from '@nestjs/common';
import { REASON_STATUS, type ReasonCode } from '../../errors/reason-codes.js';
import type { MessageKind } from '../../messages/message-envelope.js';
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

/**
 * A refused event (EMIT), thrown where its handler would have run. An event has no answer to carry a
 * refusal: the guard has logged it (one line, bounded for strangers, see RefusalLog) and counted it.
 * Nest logs every RpcException an event handler throws, one error line per refused event, which
 * would undo that bound; an IntrinsicException that is not an RpcException is one Nest's exception
 * handlers never log (@nestjs/microservices 11 and 12). It holds the same `{ status, reason, message }`.
 */
export class MessageEventRefusal extends IntrinsicException {
  override readonly name = 'MessageEventRefusal';
  readonly error: { readonly status: number; readonly reason: ReasonCode; readonly message: string };

  constructor(reason: ReasonCode, message: string) {
    super(message);
    this.error = { status: REASON_STATUS[reason], reason, message };
  }
}

/**
 * A message's refusal: for a `send()`, the RpcException its caller receives, holding
 * `{ status, reason, message }`; for an event, a MessageEventRefusal (nothing is sent back).
 */
export async function messageRefusal(reason: ReasonCode, message: string, kind: MessageKind): Promise<Error> {
  if (kind === 'EMIT') return new MessageEventRefusal(reason, message);
  return new (await import('@nestjs/microservices')).RpcException({ status: REASON_STATUS[reason], reason, message });
}
