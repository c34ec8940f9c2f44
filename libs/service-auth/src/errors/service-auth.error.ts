import { REASON_STATUS, type ReasonCode } from './reason-codes.js';

/**
 * A refusal with a stable reason. `message` is safe to send to the caller: it never contains a
 * secret, an expected value or a fragment of the body. `detail` is for the server log only.
 * `retryAfterSeconds`, when set, is sent as `Retry-After`: when the same caller may try again.
 */
export class ServiceAuthError extends Error {
  readonly status: number;

  constructor(
    readonly reason: ReasonCode,
    message: string,
    readonly detail?: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'ServiceAuthError';
    this.status = REASON_STATUS[reason];
  }
}
