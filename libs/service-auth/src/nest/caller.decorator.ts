import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { VerifiedCaller } from '../protocol/verified-caller.js';
import { VERIFIED_CALLER_PROPERTY } from './service-auth.constants.js';
import type { ServiceAuthRequest } from './service-auth-request.js';

/** The verified caller of the current request (undefined on a @PublicRoute()). */
export const Caller = createParamDecorator((_: unknown, ctx: ExecutionContext): VerifiedCaller | undefined => {
  return ctx.switchToHttp().getRequest<ServiceAuthRequest>()[VERIFIED_CALLER_PROPERTY];
});
