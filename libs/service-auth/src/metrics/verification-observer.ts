import type { ReasonCode } from '../errors/reason-codes.js';

/**
 * One decision of the guard about one request to a route that needs a caller. Only bounded,
 * non-secret values: never the API key, the raw path (it carries ids), the query or the body.
 */
export interface VerificationEvent {
  /** The route pattern as declared, e.g. `/api/inventory/:productId`; never the path requested. */
  readonly route: string;
  /** The HTTP method, upper case. */
  readonly method: string;
  /**
   * The caller's service id: the verified caller, or on a refusal the configured caller the API key
   * belongs to (a known key with a bad signature is worth seeing). Undefined when no configured key
   * was presented.
   */
  readonly caller: string | undefined;
  /** Time the guard spent deciding (reading the body when it was not read yet, and verifying), in seconds. */
  readonly durationSeconds: number;
}

/** A refusal with its stable reason code and HTTP status. */
export interface RefusalEvent extends VerificationEvent {
  readonly reason: ReasonCode;
  readonly status: number;
}

/**
 * Receives every verification outcome of ServiceAuthGuard. Called synchronously on the request's
 * path: implementations must be cheap and must not throw (a throw is caught and ignored, never
 * turned into a refusal). Framework-free, so that any metrics library can sit behind it
 * (OpenTelemetryVerificationObserver ships with the package; a prom-client one is a few lines).
 */
export interface VerificationObserver {
  /** The request carried a valid signature from a caller the route trusts; the handler runs next. */
  onVerified(event: VerificationEvent): void;
  /** The request was refused with a reason code (4xx, or 503 when the replay store is down). */
  onRefused(event: RefusalEvent): void;
  /**
   * The guard failed with an unexpected error (a bug or a misbehaving dependency, answered 500).
   * Optional: without it such failures are not observed.
   */
  onFailed?(event: VerificationEvent): void;
}
