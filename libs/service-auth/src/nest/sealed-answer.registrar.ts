import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { AnswerSealer } from './encrypted-exchange.js';
import type { ResolvedServiceAuthOptions } from './resolved-options.js';
import { RESOLVED_OPTIONS } from './service-auth.constants.js';

/**
 * Where a response object keeps the sealer of its answer until the answer is sent. A symbol-keyed
 * property rather than a WeakMap: every answer is looked up, and a property that is not there is the
 * cheapest miss there is (a sealer holds a key, but is a closure: nothing of it prints).
 */
const PENDING_SEALER = Symbol('nest-service-auth:pending-sealer');

/** Marks an adapter whose reply() already seals, so that a second module instance does not wrap it again. */
const SEALS_ANSWERS = Symbol('nest-service-auth:seals-answers');

/**
 * Asks for the handler's answer on `res` to be sealed by `seal` (ServiceAuthGuard, on an encrypted
 * exchange; SealedAnswerRegistrar does it when the answer is sent).
 */
export function sealAnswerOf(res: object, seal: AnswerSealer): void {
  Object.defineProperty(res, PENDING_SEALER, { value: seal, writable: true, configurable: true, enumerable: false });
  pending++;
}

/**
 * Sealers set and not yet taken (one whose answer is never sent through reply(), e.g. a redirect,
 * stays counted; handlers that write their own response are never marked). While there are none, which is always so for a service
 * that exchanges no encrypted bodies, an answer is sent without looking at its response.
 */
let pending = 0;

/**
 * Where the answers of encrypted exchanges are sealed when ServiceAuthGuard is installed globally,
 * in place of an interceptor: an interceptor would put every exchange, plaintext ones too, through
 * Nest's interceptor machinery (a few Observables per request), while only the few encrypted ones
 * need anything done to their answer.
 *
 * Nest sends a handler's answer, and an exception filter its error answer, through the HTTP
 * adapter's `reply(response, body, status)`. This wraps that one method: an answer whose response the
 * guard marked (sealAnswerOf) is sealed, once, unless its status is an error (>= 400): error answers
 * are never encrypted. Responses nobody marked pass through untouched.
 */
@Injectable()
export class SealedAnswerRegistrar implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedServiceAuthOptions,
  ) {}

  onModuleInit(): void {
    if (this.options.guard !== 'global') return;
    const adapter = this.adapterHost.httpAdapter as unknown as SealableAdapter | undefined;
    if (!adapter || typeof adapter.reply !== 'function' || adapter[SEALS_ANSWERS]) return;
    const reply = adapter.reply;
    adapter.reply = function sealingReply(this: unknown, response: SealableResponse, body: unknown, statusCode?: number): unknown {
      const seal = pending === 0 ? undefined : response[PENDING_SEALER];
      if (seal !== undefined) {
        response[PENDING_SEALER] = undefined;
        pending--;
        // The status the answer is sent with: the one given, else the one Nest set on the response
        // (@HttpCode, or the method's default) before the handler ran.
        const status = statusCode ?? response.statusCode;
        if (!(typeof status === 'number' && status >= 400)) {
          const sealed = seal(body, typeof status === 'number' ? status : 200);
          body = sealed.body;
          // A 204 or 205 cannot carry the sealed body: sent as 200 (which the sealed header names).
          statusCode = sealed.status;
        }
      }
      return reply.call(this, response, body, statusCode);
    };
    adapter[SEALS_ANSWERS] = true;
  }
}

/** An Express response or a Fastify reply, as the wrapped reply() sees it. */
interface SealableResponse {
  statusCode?: number;
  [PENDING_SEALER]?: AnswerSealer;
}

/** The part of Nest's HTTP adapter used here. */
interface SealableAdapter {
  reply: (response: SealableResponse, body: unknown, statusCode?: number) => unknown;
  [SEALS_ANSWERS]?: boolean;
}
