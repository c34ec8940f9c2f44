/** Who called, as proven by the API key and the signature. Available to handlers via @Caller(). */
export interface VerifiedCaller {
  /** The caller's service id, e.g. `order-service`. */
  readonly id: string;
  /** The key the request was signed with. */
  readonly keyId: string;
  /** The signature's nonce; an encrypted response echoes it. */
  readonly nonce: string;
  /** The signature's `created` time, in seconds. */
  readonly created: number;
}
