/**
 * Every refusal carries one of these stable, machine-readable reasons together with its HTTP status.
 * Callers (and their dashboards) key on the reason; the status follows HTTP semantics:
 * 400 the message is malformed, 401 the caller is not authenticated, 403 authenticated but not
 * entitled, 413 too large, 415 wrong media type, 429 slow down, 503 a dependency of the check is down.
 */
export const REASON_STATUS = {
  request_target_invalid: 400,
  content_encoding_unsupported: 415,
  api_key_missing: 401,
  api_key_invalid: 401,
  signature_missing: 401,
  signature_malformed: 400,
  signature_incomplete: 401,
  signature_algorithm_unsupported: 401,
  signature_invalid: 401,
  audience_mismatch: 401,
  key_unknown: 401,
  digest_missing: 401,
  digest_malformed: 400,
  digest_mismatch: 401,
  request_expired: 401,
  request_from_future: 401,
  nonce_replayed: 401,
  caller_not_trusted: 403,
  caller_unverified: 401,
  context_unsupported: 401,
  body_malformed: 400,
  body_too_large: 413,
  encryption_required: 415,
  media_type_unsupported: 415,
  jwe_malformed: 400,
  jwe_unsupported: 400,
  decryption_failed: 400,
  rate_limited: 429,
  nonce_budget_exhausted: 429,
  replay_store_unavailable: 503,
  rate_limit_unavailable: 503,
  raw_body_unavailable: 500,
} as const;

export type ReasonCode = keyof typeof REASON_STATUS;
