/**
 * Retry settings of the signing client (`retry`). A file of its own, free of axios, so that the
 * module's option types can name it without loading the optional peer axios.
 */
export interface RetryOptions {
  /** Attempts in all, the first included: 1 means no retry. Default 3. */
  maxAttempts?: number;
  /** Backoff before the 2nd attempt is drawn from [0, baseDelayMs); the ceiling doubles per attempt. Default 100. */
  baseDelayMs?: number;
  /** Ceiling of every backoff, and of a honoured `Retry-After`. Default 2000. */
  maxDelayMs?: number;
}
