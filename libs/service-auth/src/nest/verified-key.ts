import type { ResolvedKey } from '../keys/key-ring.js';

/**
 * The key each request was verified with, kept beside the request rather than on it: the request
 * object is logged, inspected and handed to handlers, and this holds secrets. Entries go with their
 * request (a WeakMap holds it weakly).
 */
const verifiedKeys = new WeakMap<object, ResolvedKey>();

/** Called by the guard once the request is verified. */
export function rememberVerifiedKey(req: object, key: ResolvedKey): void {
  verifiedKeys.set(req, key);
}

/** The key `req` was verified with, as it was then (a reload since does not change it); undefined if unverified. */
export function verifiedKeyOf(req: object): ResolvedKey | undefined {
  return verifiedKeys.get(req);
}
