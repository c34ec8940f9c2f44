/** Why the client refused to call an upstream without trying. */
export type UpstreamUnavailableReason = 'circuit_open';

/**
 * Thrown (emitted, by SignedHttpService's Observables) instead of calling an upstream whose circuit is
 * open: it failed repeatedly and is given time to recover. Nothing was sent; the call failed fast.
 * Map it to a 503 (or a fallback); it is never retried by the client itself.
 */
export class UpstreamUnavailableError extends Error {
  override readonly name = 'UpstreamUnavailableError';

  constructor(
    /** The upstream's origin, `scheme://host:port`. */
    readonly upstream: string,
    readonly reason: UpstreamUnavailableReason = 'circuit_open',
    options?: { cause?: unknown },
  ) {
    super(`Upstream ${upstream} is unavailable (${reason}): not called`, options);
  }
}

export function isUpstreamUnavailableError(error: unknown): error is UpstreamUnavailableError {
  return error instanceof UpstreamUnavailableError;
}
