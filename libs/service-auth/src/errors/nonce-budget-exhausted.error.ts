/**
 * One caller already has as many live nonces as a store lets one caller have: it sent more than
 * `budget` requests within the time a nonce is remembered (max age + future skew + 1 s). The store
 * refuses that caller's new nonces, and only that caller's, until its oldest one expires; nothing
 * live is forgotten, so no replay window reopens. The guard answers 429 `nonce_budget_exhausted`
 * with `Retry-After`: the caller has to slow down, the service is not down.
 */
export class NonceBudgetExhaustedError extends Error {
  constructor(
    readonly callerId: string,
    /** How many live nonces one caller may have. */
    readonly budget: number,
    /** When the caller's oldest nonce expires and room comes back, in ms from now. */
    readonly retryAfterMs: number,
  ) {
    super(`caller ${callerId} has ${budget} live nonces, its whole budget`);
    this.name = 'NonceBudgetExhaustedError';
  }
}
