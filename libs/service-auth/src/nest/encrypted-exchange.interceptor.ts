import { Inject, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { map, type Observable } from 'rxjs';
import type { VerifiedCaller } from '../protocol/verified-caller.js';
import { EncryptedExchange } from './encrypted-exchange.js';
import { VERIFIED_CALLER_PROPERTY } from './service-auth.constants.js';
import { ServiceAuthKeys } from './service-auth-keys.service.js';
import { SERVICE_AUTH_OPTIONS } from './service-auth.module-definition.js';
import type { ServiceAuthModuleOptions } from './service-auth-options.interface.js';
import { verifiedKeyOf } from './verified-key.js';

/**
 * Runs the encrypted exchange (see EncryptedExchange) when ServiceAuthGuard is not installed globally
 * (`guard: 'manual'` or `'none'`): after every guard, around every handler. With the guard installed
 * globally, the module installs no interceptor and the guard runs the exchange itself.
 * A plaintext exchange passes straight through: no operator is added to its response stream.
 */
@Injectable()
export class EncryptedExchangeInterceptor implements NestInterceptor {
  private readonly exchange: EncryptedExchange;

  constructor(
    private readonly reflector: Reflector,
    keys: ServiceAuthKeys,
    @Inject(SERVICE_AUTH_OPTIONS) options: ServiceAuthModuleOptions,
  ) {
    this.exchange = new EncryptedExchange(keys, options);
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const policy = this.exchange.policyOf(this.reflector, context);
    if (policy === 'off') return next.handle();
    const http = context.switchToHttp();
    const req = http.getRequest();
    const caller: VerifiedCaller | undefined = req[VERIFIED_CALLER_PROPERTY];
    const seal = this.exchange.begin(req, http.getResponse(), policy, caller, verifiedKeyOf(req));
    return seal ? next.handle().pipe(map(seal)) : next.handle();
  }
}
