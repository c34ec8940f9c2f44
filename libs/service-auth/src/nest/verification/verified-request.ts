import type { ResolvedKey } from '../../keys/key-ring.js';
import type { VerifiedRequest } from '../../protocol/request-verifier.js';
import type { AnsweredRequest } from '../../protocol/response-signature.js';
import { VERIFIED_CALLER_PROPERTY } from '../options/service-auth.constants.js';
import type { ServiceAuthRequest } from '../adapters/service-auth-request.js';

/** Where the guard leaves the key a request was verified with, for the encrypted exchange. */
const VERIFIED_KEY = Symbol('nest-service-auth:verified-key');

/**
 * The key in a private field: the request object is logged, inspected and handed to handlers, and a
 * key holds secrets; nothing that prints or serialises the request shows a private field.
 */
class VerifiedKey {
  readonly #key: ResolvedKey;
  readonly #request: AnsweredRequest;

  constructor(key: ResolvedKey, request: AnsweredRequest) {
    this.#key = key;
    this.#request = request;
  }

  get key(): ResolvedKey {
    return this.#key;
  }

  get request(): AnsweredRequest {
    return this.#request;
  }
}

type VerifiableRequest = ServiceAuthRequest & { [VERIFIED_KEY]?: VerifiedKey };

/** Called by the guard once the request is verified: the caller for handlers, the key for the exchange. */
export function setVerifiedRequest(req: ServiceAuthRequest, verified: VerifiedRequest): void {
  req[VERIFIED_CALLER_PROPERTY] = verified.caller;
  Object.defineProperty(req, VERIFIED_KEY, {
    value: new VerifiedKey(verified.key, verified.request),
    configurable: true,
    writable: true,
    enumerable: false,
  });
}

/**
 * The request as the guard verified it: its caller, and the key as it was then (a reload since does
 * not change it, so an answer whose state change is already made is still sealed); undefined when no
 * guard of this library verified it.
 */
export function verifiedRequestOf(req: ServiceAuthRequest): VerifiedRequest | undefined {
  const caller = req[VERIFIED_CALLER_PROPERTY];
  const held = (req as VerifiableRequest)[VERIFIED_KEY];
  return caller && held ? { caller, key: held.key, request: held.request } : undefined;
}
