import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { VerifiedCaller } from '../../protocol/verified-caller.js';
import { asGraphQLRefusal } from '../verification/context-refusal.js';
import { contextRequestOf } from '../verification/execution-context-request.js';
import { CALLER_PARAMETER_METADATA, VERIFIED_CALLER_PROPERTY } from '../options/service-auth.constants.js';
import { ServiceAuthException } from '../verification/service-auth.exception.js';
import { verifiedMessageOf } from '../messaging/verified-messages.js';

const callerParameter = createParamDecorator((_: unknown, ctx: ExecutionContext): VerifiedCaller => {
  const target = contextRequestOf(ctx);
  const caller =
    target.kind !== 'unverified'
      ? target.req[VERIFIED_CALLER_PROPERTY]
      : target.type === 'rpc'
        ? verifiedMessageOf(ctx.switchToRpc().getContext(), ctx.switchToRpc().getData())?.caller
        : undefined;
  if (caller) return caller;
  // Unreachable behind the guard (a handler with @Caller() cannot start as public, and a verified
  // request carries its caller); here when the guard was not installed in front of the handler.
  const refusal = new ServiceAuthException('caller_unverified', 'This handler needs a verified caller, and the request was not verified');
  throw target.kind === 'graphql' ? asGraphQLRefusal(refusal) : refusal;
});

/**
 * The verified caller of the current request (HTTP routes, GraphQL resolvers over HTTP, microservice
 * message and event handlers). Never
 * undefined: a handler using it cannot be a @PublicRoute() (the app refuses to start), and a request
 * that reaches it unverified (no guard in front of it) is refused with 401 `caller_unverified`.
 */
export function Caller(): ParameterDecorator {
  const decorate = callerParameter();
  return (target, key, index) => {
    // Recorded on the handler, for the start-up checks (TrustedCallerValidator).
    if (key !== undefined) Reflect.defineMetadata(CALLER_PARAMETER_METADATA, true, (target as Record<string | symbol, object>)[key]);
    decorate(target, key, index);
  };
}
