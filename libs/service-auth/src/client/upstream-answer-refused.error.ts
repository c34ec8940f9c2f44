/** Why the client refused to use an upstream's answer. */
export type UpstreamAnswerRefusedReason =
  /** A 3xx (other than 304): never followed, since following would resend the API key, a fresh signature and the body. */
  | 'upstream_redirect'
  /** More bytes than the call's limit (maxResponseBytes), counted after decompression. */
  | 'upstream_response_too_large'
  /** An answer without the response signature the client requires (verifyAnswers). */
  | 'answer_unsigned'
  /** A response signature that does not verify: the answer was changed in transit, or answers another request. */
  | 'answer_signature_invalid';

export interface UpstreamAnswerRefusedDetails {
  /** The status the upstream answered with (for a redirect). */
  status?: number;
  /** Where a redirect pointed (never visited). For the log: it says where the upstream tried to send us. */
  location?: string;
  /** The size limit the answer exceeded, in bytes. */
  limitBytes?: number;
  /** The configured id of the upstream, and the key the request was signed with (as on UpstreamHttpError). */
  upstreamId?: string;
  keyId?: string;
  /** Why the answer's signature was refused (never a key or a signature). */
  detail?: string;
}

/**
 * Thrown (emitted, by SignedHttpService's Observables) when the upstream was called and answered, but
 * its answer is not one the client may use: a redirect, a body over the size limit, or an answer
 * whose response signature is missing or does not verify. Not retried
 * (the same upstream would answer the same way) and not counted by the circuit breaker (the upstream
 * is up). Map it to a 502. It carries no request config or headers, so logging it leaks no credential.
 */
export class UpstreamAnswerRefusedError extends Error {
  override readonly name = 'UpstreamAnswerRefusedError';
  readonly status?: number;
  readonly location?: string;
  readonly limitBytes?: number;
  readonly upstreamId?: string;
  readonly keyId?: string;
  readonly detail?: string;

  constructor(
    /** The upstream's origin, `scheme://host:port`. */
    readonly upstream: string,
    readonly reason: UpstreamAnswerRefusedReason,
    details: UpstreamAnswerRefusedDetails = {},
  ) {
    super(
      reason === 'upstream_redirect'
        ? `Upstream ${upstream} answered with a redirect (${details.status ?? '3xx'}): not followed`
        : reason === 'upstream_response_too_large'
          ? `Upstream ${upstream} answered with more than ${details.limitBytes ?? 'the allowed'} bytes: not read further`
          : `Upstream ${upstream} answered (${details.status ?? '?'}) with an answer whose signature is refused: ${details.detail ?? reason}`,
    );
    this.status = details.status;
    this.location = details.location;
    this.limitBytes = details.limitBytes;
    this.upstreamId = details.upstreamId;
    this.keyId = details.keyId;
    this.detail = details.detail;
  }
}

export function isUpstreamAnswerRefusedError(error: unknown): error is UpstreamAnswerRefusedError {
  return error instanceof UpstreamAnswerRefusedError;
}
