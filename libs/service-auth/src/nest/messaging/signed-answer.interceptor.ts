import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { map, type Observable } from 'rxjs';
import { asHmacKey } from '../../keys/key-ring.js';
import { signAnswer } from '../../messages/signed-answer.js';
import { incomingMessageOf } from './incoming-message.js';
import { verifiedMessageOf } from './verified-messages.js';

/**
 * The messages whose answer an interceptor has taken on. The interceptor can run twice on one
 * handler (installed globally, and bound to the handler's controller so that a microservice that
 * does not inherit the app's configuration has it too): the outer one signs the final value, the
 * inner one lets it through, so an answer is never signed twice.
 */
/** Keyed by the handler invocation's argument list, which both runs share (a transport context may serve many messages). */
const answered = new WeakSet<object>();

/**
 * Signs every answer of a verified `send()` with the key the request was verified with, bound to its
 * nonce (signed-answer.ts): the signing client refuses any answer that is not. It is sealed under that
 * key when the guard said so (an encrypted message, a signed `accept: application/jose`, or the
 * handler's `required` encryption policy). An event handler answers nothing, even to a packet sent
 * as a request: its value is for no one, and would go back unsigned. HTTP and public handlers pass
 * through untouched.
 */
@Injectable()
export class SignedAnswerInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'rpc') return next.handle();
    const incoming = incomingMessageOf(context);
    if (incoming.kind === 'EMIT') return next.handle().pipe(map(() => undefined));
    const verified = verifiedMessageOf(incoming.rpcContext, incoming.data);
    const invocation = context.getArgs();
    if (!verified || answered.has(invocation)) return next.handle();
    answered.add(invocation);
    const binding = { nonce: verified.caller.nonce, callerId: verified.caller.id };
    const seal = { seal: verified.sealAnswer };
    return next.handle().pipe(map((value: unknown) => signAnswer(value, asHmacKey(verified.key), binding, undefined, seal)));
  }
}
