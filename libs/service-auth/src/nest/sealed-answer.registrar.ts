import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { AnswerSealer } from './encrypted-exchange.js';
import { SERVICE_AUTH_OPTIONS } from './service-auth.module-definition.js';
import type { ServiceAuthModuleOptions } from './service-auth-options.interface.js';

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
 * Sealers set and not yet taken (one whose answer is never sent through reply(), e.g. a handler that
 * writes the response itself, stays counted). While there are none, which is always so for a service
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
    @Inject(SERVICE_AUTH_OPTIONS) private readonly options: ServiceAuthModuleOptions,
  ) {}

  onModuleInit(): void {
    if ((this.options.guard ?? 'global') !== 'global') return;
    const adapter: any = this.adapterHost.httpAdapter;
    if (!adapter || typeof adapter.reply !== 'function' || adapter[SEALS_ANSWERS]) return;
    const reply = adapter.reply;
    adapter.reply = function sealingReply(this: unknown, response: any, body: unknown, statusCode?: number) {
      const seal: AnswerSealer | undefined = pending === 0 ? undefined : response?.[PENDING_SEALER];
      if (seal !== undefined) {
        response[PENDING_SEALER] = undefined;
        pending--;
        if (!(typeof statusCode === 'number' && statusCode >= 400)) body = seal(body);
      }
      return reply.call(this, response, body, statusCode);
    };
    adapter[SEALS_ANSWERS] = true;
  }
}
