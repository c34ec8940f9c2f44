/**
 * The rate limiter's store could not answer: connection refused or lost, a command error, or no
 * reply within the store's timeout. CallerThrottlerGuard answers 503 `rate_limit_unavailable`
 * (fail closed): whether the caller is over its limit is unknown.
 *
 * `message` never contains connection credentials (the password of a Redis URL is redacted).
 * `cause`, when set, is the underlying client error, for the server log only.
 */
export class ThrottlerStorageUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ThrottlerStorageUnavailableError';
  }
}
