import type { SignedMessage } from '../../messages/message-verifier.js';

/**
 * Each message's signature verification, by its transport context (one object per message), as a
 * promise. Nest runs every handler of an event pattern with the same context, and starts the next
 * handler's guard without waiting for the first (so the second would find the nonce claimed and be
 * refused as `nonce_replayed`); a guard that runs twice on one handler (global, and bound to its
 * controller) is in the same position. The first verifies and claims the nonce; the others wait for
 * its outcome and apply their own handler's policy. Module-level, not per guard: two guard
 * instances can serve one message. A WeakMap: the entry goes with the message.
 */
const verifications = new WeakMap<object, Promise<SignedMessage>>();

/** The verification of this message started by an earlier guard, if any. */
export function messageVerificationOf(rpcContext: object): Promise<SignedMessage> | undefined {
  return verifications.get(rpcContext);
}

/** Records the verification this guard starts, for the message's other handlers and guards. */
export function setMessageVerification(rpcContext: object, verification: Promise<SignedMessage>): void {
  verifications.set(rpcContext, verification);
}
