import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { map, type Observable } from 'rxjs';
import { asHmacKey } from '../../keys/key-ring.js';
import { signAnswer } from '../../messages/signed-answer.js';
import { incomingMessageOf } from './incoming-message.js';
import { verifiedMessageOf } from './verified-messages.js';

/**
 * Signs every answer of a verified `send()` with the key the request was verified with, bound to its
 * nonce (signed-answer.ts): the signing client refuses any answer that is not. It is sealed under that
 * key when the guard said so (an encrypted message, a signed `accept: application/jose`, or the
 * handler's `required` encryption policy). HTTP, events and public handlers pass through untouched.
 */
@Injectable()
export class SignedAnswerInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'rpc') return next.handle();
    const incoming = incomingMessageOf(context);
    const verified = incoming.kind === 'SEND' ? verifiedMessageOf(incoming.rpcContext) : undefined;
    if (!verified) return next.handle();
    const binding = { nonce: verified.caller.nonce, callerId: verified.caller.id };
    const seal = { seal: verified.sealAnswer };
    return next.handle().pipe(map((value: unknown) => signAnswer(value, asHmacKey(verified.key), binding, undefined, seal)));
  }
}
