import { Inject, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { map, type Observable } from 'rxjs';
import { EncryptedExchange, type SealedResponse } from './encrypted-exchange.js';
import { handlerWritesResponse } from './handler-writes-response.js';
import type { ResolvedServiceAuthOptions } from '../options/resolved-options.js';
import { RESOLVED_OPTIONS } from '../options/service-auth.constants.js';
import { ServiceAuthKeys } from '../service-auth-keys.service.js';
import type { EncryptionPolicy } from '../options/service-auth-options.interface.js';
import type { ServiceAuthRequest } from '../adapters/service-auth-request.js';
import { verifiedRequestOf } from '../verification/verified-request.js';

/** What the interceptor decided about a route on its first request (route metadata does not change). */
interface RouteExchange {
  readonly policy: EncryptionPolicy;
  /** The handler writes its own response (`@Res()` without passthrough): Nest sends nothing it returns. */
  readonly writesResponse: boolean;
}

/**
 * Runs the encrypted exchange (see EncryptedExchange) of every HTTP route whose policy is not 'off':
 * after the guards (the request is verified, or public), before the pipes (so `@Body()` sees the
 * opened body), and around the handler (so its answer can be sealed). The one place answers are
 * sealed. The module installs it only when some route can use encryption; a plaintext exchange
 * passes straight through, with no operator added to its response stream.
 */
@Injectable()
export class EncryptedExchangeInterceptor implements NestInterceptor {
  private readonly exchange: EncryptedExchange;
  private readonly routes = new WeakMap<object, RouteExchange>();

  constructor(
    private readonly reflector: Reflector,
    keys: ServiceAuthKeys,
    @Inject(RESOLVED_OPTIONS) options: ResolvedServiceAuthOptions,
  ) {
    this.exchange = new EncryptedExchange(keys, options);
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const route = this.routeOf(context);
    if (route.policy === 'off') return next.handle();
    const http = context.switchToHttp();
    const req = http.getRequest<ServiceAuthRequest>();
    const res = http.getResponse<HttpResponse>();
    const seal = this.exchange.begin(req, res, route.policy, verifiedRequestOf(req), route.writesResponse);
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

  private routeOf(context: ExecutionContext): RouteExchange {
    const handler = context.getHandler();
    let route = this.routes.get(handler);
    if (!route) {
      const policy = this.exchange.policyOf(this.reflector, context);
      route = { policy, writesResponse: policy !== 'off' && handlerWritesResponse(context.getClass(), handler) };
      this.routes.set(handler, route);
    }
    return route;
  }
}

/** What the interceptor uses of an Express response or a Fastify reply (both have these members). */
interface HttpResponse extends SealedResponse {
  statusCode: number;
  status(code: number): unknown;
}
