import { ServiceAuthError } from '../errors/service-auth.error.js';

export interface ReplayWindowOptions {
  /** How old `created` may be, in seconds. Default 300. */
  maxAgeSeconds?: number;
  /** How far `created` may lie in the future (clock skew), in seconds. Default 5. */
  maxFutureSkewSeconds?: number;
}

export const DEFAULT_MAX_AGE_SECONDS = 300;
export const DEFAULT_MAX_FUTURE_SKEW_SECONDS = 5;

/**
 * The time half of replay protection. Age and future skew are bounded separately: a symmetric
 * window would let a future-dated request stay valid for almost twice the maximum age.
 * Returns how long the nonce must be remembered: until the request can no longer pass this check.
 */
export function checkReplayWindow(
  params: { created: number; expires?: number },
  nowMs: number,
  options: ReplayWindowOptions = {},
): { nonceExpiresAtMs: number } {
  const maxAge = options.maxAgeSeconds ?? DEFAULT_MAX_AGE_SECONDS;
  const skew = options.maxFutureSkewSeconds ?? DEFAULT_MAX_FUTURE_SKEW_SECONDS;
  const now = nowMs / 1000;
  if (params.created > now + skew) {
    throw new ServiceAuthError('request_from_future', 'The signature was created in the future');
  }
  if (params.created < now - maxAge) {
    throw new ServiceAuthError('request_expired', 'The signature is too old');
  }
  if (params.expires !== undefined && params.expires < now) {
    throw new ServiceAuthError('request_expired', 'The signature has expired');
  }
  // created ≤ now + skew, so it stays acceptable until created + maxAge; one extra second covers rounding.
  return { nonceExpiresAtMs: (params.created + maxAge + 1) * 1000 };
}
