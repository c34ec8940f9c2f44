/**
 * Circuit breaker settings of the signing client (`circuitBreaker`). A file of its own, free of
 * axios and cockatiel, so that the module's option types can name it without loading either.
 */
export interface CircuitBreakerOptions {
  /** Consecutive failed calls (network error, timeout, 5xx; each retry attempt counts) that open the circuit. Default 5. */
  consecutiveFailures?: number;
  /** How long an open circuit fails fast before it lets one trial call through (half-open). Default 10 000 ms. */
  halfOpenAfterMs?: number;
}
