import { Inject, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { map, type Observable } from 'rxjs';
import { EncryptedExchange, type SealedResponse } from './encrypted-exchange.js';
import type { ResolvedServiceAuthOptions } from './resolved-options.js';
import { RESOLVED_OPTIONS, VERIFIED_CALLER_PROPERTY } from './service-auth.constants.js';
import { ServiceAuthKeys } from './service-auth-keys.service.js';
import type { ServiceAuthRequest } from './service-auth-request.js';
import { verifiedKeyOf } from './verified-key.js';

/**
 * Runs the encrypted exchange (see EncryptedExchange) when ServiceAuthGuard is not installed globally
 * (`guard: 'manual'` or `'none'`): after every guard, around every handler. With the guard installed
 * globally, the module installs no interceptor and the guard runs the exchange itself.
 * A plaintext exchange passes straight through: no operator is added to its response stream. So
 * does a handler that writes its own response (`@Res()` without passthrough): Nest sends nothing it
 * returns.
 */
@Injectable()
export class EncryptedExchangeInterceptor implements NestInterceptor {
  private readonly exchange: EncryptedExchange;

  constructor(
    private readonly reflector: Reflector,
    keys: ServiceAuthKeys,
    @Inject(RESOLVED_OPTIONS) options: ResolvedServiceAuthOptions,
  ) {
    this.exchange = new EncryptedExchange(keys, options);
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const policy = this.exchange.policyOf(this.reflector, context);
    if (policy === 'off') return next.handle();
    const http = context.switchToHttp();
    const req = http.getRequest<ServiceAuthRequest>();
    const res = http.getResponse<HttpResponse>();
    const seal = this.exchange.begin(
      req,
      res,
      policy,
      req[VERIFIED_CALLER_PROPERTY],
      verifiedKeyOf(req),
      this.exchange.writesResponse(context),
    );
    if (!seal) return next.handle();
    return next.handle().pipe(
      map((data) => {
        // Nest has set the status (@HttpCode, or the method's default) before the handler ran.
        const sealed = seal(data, res.statusCode);
        if (sealed.status !== res.statusCode) res.status(sealed.status);
        return sealed.body;
      }),
    );
  }
}

/** What the interceptor uses of an Express response or a Fastify reply (both have these members). */
interface HttpResponse extends SealedResponse {
  statusCode: number;
  status(code: number): unknown;
}
