import type { VerifiedMessage } from '../../messages/message-verifier.js';

/**
 * Verified messages by their transport context (TcpContext, NatsContext, …: one object per message,
 * the handler's second argument). A WeakMap, not a property: the context is handed to handlers and
 * logged, and the verified key holds secrets.
 */
const verified = new WeakMap<object, VerifiedMessage>();

/** Called by the guard once a message is verified: its caller for @Caller(), its key for the answer. */
export function setVerifiedMessage(rpcContext: object, request: VerifiedMessage): void {
  verified.set(rpcContext, request);
}

/** The message as the guard verified it; undefined when no guard of this library verified it. */
export function verifiedMessageOf(rpcContext: unknown): VerifiedMessage | undefined {
  return typeof rpcContext === 'object' && rpcContext !== null ? verified.get(rpcContext) : undefined;
}
