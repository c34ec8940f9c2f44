/** Why the client refused to send a call. */
export type OutgoingRequestRefusedReason =
  /** The call's config would weaken what the client guarantees (e.g. follow redirects, lift the size limits). */
  | 'request_config_unsafe'
  /** The body to send is larger than maxRequestBytes. */
  | 'request_too_large';

/**
 * Thrown (emitted, by SignedHttpService's Observables) before anything is sent: the call as written
 * cannot be made safely. A programming or configuration error on the calling side, never a failure of
 * the upstream: not retried, not counted by the circuit breaker. `option` names the setting at fault.
 */
export class OutgoingRequestRefusedError extends Error {
  override readonly name = 'OutgoingRequestRefusedError';

  constructor(
    readonly reason: OutgoingRequestRefusedReason,
    message: string,
    /** The config option (e.g. `maxRedirects`) or client option (e.g. `maxRequestBytes`) concerned. */
    readonly option?: string,
  ) {
    super(message);
  }
}

export function isOutgoingRequestRefusedError(error: unknown): error is OutgoingRequestRefusedError {
  return error instanceof OutgoingRequestRefusedError;
}
