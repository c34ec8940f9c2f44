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
import { nodeRequest } from '../adapters/service-auth-request.js';
import { answerSigningKey } from '../../keys/answer-keys.js';
import { signAnswer } from '../../protocol/response-signature.js';
import type { VerifiedRequest } from '../../protocol/request-verifier.js';
import { answerBody, withCharset } from './answer-body.js';
import { JWE_MEDIA_TYPE } from '../../crypto/jwe-media-type.js';

/** What the interceptor decided about a route on its first request (route metadata does not change). */
interface RouteExchange {
  readonly policy: EncryptionPolicy;
  /** The handler writes its own response (`@Res()` without passthrough): Nest sends nothing it returns. */
  readonly writesResponse: boolean;
}

/**
 * Runs the encrypted exchange (see EncryptedExchange) of every HTTP route whose policy is not 'off',
 * and signs every answer a handler returns to a verified caller (RFC 9421 response signature bound
 * to its request; protocol/response-signature.ts): after the guards (the request is verified, or
 * public), before the pipes (so `@Body()` sees the opened body), and around the handler (so its
 * answer can be sealed and signed). The one place answers are sealed and signed: the answer is
 * serialised here, so the signed bytes are the bytes sent. What it cannot see is not signed: an
 * error answer (Nest's exception filters write it), a handler's own `@Res()` response, a stream.
 * The module installs it when answers are signed or some route can use encryption; an exchange with
 * neither passes straight through, with no operator added to its response stream.
 */
@Injectable()
export class EncryptedExchangeInterceptor implements NestInterceptor {
  private readonly exchange: EncryptedExchange;
  private readonly routes = new WeakMap<object, RouteExchange>();
  private readonly signAnswers: boolean;

  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ServiceAuthKeys,
    @Inject(RESOLVED_OPTIONS) options: ResolvedServiceAuthOptions,
  ) {
    this.exchange = new EncryptedExchange(keys, options);
    this.signAnswers = options.signAnswers;
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const route = this.routeOf(context);
    const http = context.switchToHttp();
    const req = http.getRequest<ServiceAuthRequest>();
    const res = http.getResponse<HttpResponse>();
    const verified = verifiedRequestOf(req);
    const seal = route.policy === 'off' ? undefined : this.exchange.begin(req, res, route.policy, verified, route.writesResponse);
    const sign = this.signAnswers && verified && !route.writesResponse ? verified : undefined;
    if (!seal && !sign) return next.handle();
    const isHead = nodeRequest(req).method === 'HEAD';
    return next.handle().pipe(
      map((data: unknown): unknown => {
        // Nest has set the status (@HttpCode, or the method's default) before the handler ran.
        if (seal) {
          const sealed = seal(data, res.statusCode);
          if (sealed.status !== res.statusCode) res.status(sealed.status);
          if (sign) {
            const contentType = withCharset(headerText(res.getHeader('content-type')) ?? JWE_MEDIA_TYPE);
            res.header('content-type', contentType);
            this.sign(res, sealed.status, contentType, Buffer.from(sealed.body, 'latin1'), sign, isHead);
          }
          return sealed.body;
        }
        const answer = answerBody(data, headerText(res.getHeader('content-type')));
        if (!answer || !sign) return data;
        if (answer.contentType !== undefined) res.header('content-type', answer.contentType);
        this.sign(res, res.statusCode, answer.contentType, answer.bytes, sign, isHead);
        return answer.body;
      }),
    );
  }

  /** Sets the answer's signature headers. An answer to HEAD is signed as sent: without a body. */
  private sign(
    res: HttpResponse,
    status: number,
    contentType: string | undefined,
    bytes: Buffer,
    verified: VerifiedRequest,
    isHead: boolean,
  ) {
    const key = answerSigningKey(verified.key, this.keys.ring);
    if (!key) return;
    const headers = signAnswer({ status, contentType, body: isHead ? Buffer.alloc(0) : bytes }, verified.request, key);
    for (const [name, value] of Object.entries(headers)) res.header(name, value);
  }

  private routeOf(context: ExecutionContext): RouteExchange {
    const handler = context.getHandler();
    let route = this.routes.get(handler);
    if (!route) {
      const policy = this.exchange.policyOf(this.reflector, context);
      route = { policy, writesResponse: handlerWritesResponse(context.getClass(), handler) };
      this.routes.set(handler, route);
    }
    return route;
  }
}

/** What the interceptor uses of an Express response or a Fastify reply (both have these members). */
interface HttpResponse extends SealedResponse {
  statusCode: number;
  status(code: number): unknown;
  getHeader(name: string): unknown;
}

function headerText(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
