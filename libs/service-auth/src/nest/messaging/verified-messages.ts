import type { VerifiedMessage } from '../../messages/message-verifier.js';

/**
 * Verified messages, for @Caller() and the signed answer. Keyed by the data the guard handed the
 * handler (verified.data), not by the transport context alone: a custom transport may reuse one
 * context object for every message of a channel, and a caller verified for one message must not be
 * read for the next. Data that is an object is its own key (a new object per verified message);
 * primitive data is kept under the context, and read only while the handler's data is that same
 * value. WeakMaps, not properties: the context and the data are handed to handlers and logged, and
 * the verified key holds secrets.
 */
const byData = new WeakMap<object, VerifiedMessage>();
const byContext = new WeakMap<object, { readonly data: unknown; readonly verified: VerifiedMessage }>();

/** Called by the guard once a message is verified and its handler's data replaced by `verified.data`. */
export function setVerifiedMessage(rpcContext: object, verified: VerifiedMessage): void {
  if (isObject(verified.data)) byData.set(verified.data, verified);
  else byContext.set(rpcContext, { data: verified.data, verified });
}

/**
 * The message as the guard verified it, given the handler's context and data; undefined when no
 * guard of this library verified this message.
 */
export function verifiedMessageOf(rpcContext: unknown, data: unknown): VerifiedMessage | undefined {
  if (isObject(data)) return byData.get(data);
  if (!isObject(rpcContext)) return undefined;
  const entry = byContext.get(rpcContext);
  return entry && Object.is(entry.data, data) ? entry.verified : undefined;
}

function isObject(value: unknown): value is object {
  return (typeof value === 'object' && value !== null) || typeof value === 'function';
}
