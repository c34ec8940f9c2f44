import type { SignedMessage } from '../../messages/message-verifier.js';

/**
 * Each message's signature verification, as a promise, keyed by the message's own data object (the
 * envelope every handler of its pattern receives), never by the transport context: a custom
 * transport may reuse one context object for every message of a channel. Nest runs every handler of
 * an event pattern with the same data, and starts the next handler's guard without waiting for the
 * first (so the second would find the nonce claimed and be refused as `nonce_replayed`). The first
 * verifies and claims the nonce; the others wait for its outcome and apply their own handler's
 * policy. Data that is not an object is never memoised: each guard verifies it (and refuses it: an
 * envelope is an object).
 *
 * A guard that runs twice on one handler (global, and bound to its controller) sees the data the
 * first one already replaced with the signed payload: it finds the verification by the handler
 * invocation's argument list instead (one array, shared by all guards of one invocation).
 *
 * Module-level, not per guard: two guard instances can serve one message. WeakMaps: the entry goes
 * with the message.
 */
const byEnvelope = new WeakMap<object, Promise<SignedMessage>>();
const byInvocation = new WeakMap<object, Promise<SignedMessage>>();

/**
 * The verification of this message started by an earlier guard, if any; recorded for this handler
 * invocation too, so that a next guard on it (which sees the signed payload) finds it.
 */
export function messageVerificationOf(data: unknown, invocationArgs: object): Promise<SignedMessage> | undefined {
  const found = byInvocation.get(invocationArgs) ?? (isObject(data) ? byEnvelope.get(data) : undefined);
  if (found) byInvocation.set(invocationArgs, found);
  return found;
}

/** Records the verification this guard starts, for the message's other handlers and guards. */
export function setMessageVerification(data: unknown, invocationArgs: object, verification: Promise<SignedMessage>): void {
  byInvocation.set(invocationArgs, verification);
  if (isObject(data)) byEnvelope.set(data, verification);
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}
