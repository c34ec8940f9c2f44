/** One nonce as the verifier claims it: who signed, with which key, and the nonce itself. */
export interface NonceClaim {
  /** The verified caller (its API key and signature were checked before the claim). */
  callerId: string;
  /** The caller's key that signed the request; the same nonce under another key is another request. */
  keyId: string;
  nonce: string;
}

/**
 * Remembers nonces so that a signed request is accepted at most once.
 *
 * Implementations must make `claim` atomic across every process that shares the store: two
 * concurrent claims of the same nonce resolve `true` for exactly one of them. A store that cannot
 * answer (network down, timeout) must reject, never resolve `true`: the guard then fails closed.
 *
 * The store is told the caller so that it can bound what one caller may use: a store that refuses
 * one caller for having too many live nonces rejects with NonceBudgetExhaustedError (429 for that
 * caller only); any other rejection is taken as the store being unavailable (503).
 */
export interface NonceStore {
  /**
   * Records the nonce of `claim` until `expiresAtMs` (epoch milliseconds).
   * Resolves `true` when it was not yet present (first use), `false` when it was (a replay).
   */
  claim(claim: NonceClaim, expiresAtMs: number): Promise<boolean>;

  /**
   * Resolves when the store can take claims right now; rejects (with a message that holds no
   * secret) when claims would fail. Used by health checks (ReplayStoreHealthIndicator); a store
   * without it is reported healthy.
   */
  ping?(): Promise<void>;

  /** Releases connections or timers; called when the Nest application shuts down. */
  close?(): Promise<void>;
}
