import { isAxiosError, isCancel, type AxiosResponse } from 'axios';

/**
 * How an outgoing call failed, seen from the client: the upstream could not be reached or dropped the
 * connection (`network`), did not answer in time (`timeout`), or answered with an HTTP status.
 * Shared by the retry policy and the circuit breakers, so both agree on what a failure is.
 */

/** Connection-level errors: nothing (or nothing usable) came back from the upstream. */
const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ERR_NETWORK',
]);

/** axios reports its own `timeout` as ECONNABORTED (ETIMEDOUT with `transitional.clarifyTimeoutError`). */
const TIMEOUT_ERROR_CODES: ReadonlySet<string> = new Set(['ECONNABORTED', 'ETIMEDOUT']);

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  const causeCode = (error as { cause?: { code?: unknown } | null } | null)?.cause?.code;
  return typeof causeCode === 'string' ? causeCode : undefined;
}

/** True for a cancelled request (AbortSignal, CancelToken or an unsubscribed Observable): never a failure of the upstream. */
export function isCancellation(error: unknown): boolean {
  return isCancel(error) || codeOf(error) === 'ERR_CANCELED' || (error as Error | null)?.name === 'AbortError';
}

/** The HTTP status the upstream answered with, from an axios error or a response; undefined if there was no answer. */
export function statusOf(outcome: unknown): number | undefined {
  if (isAxiosError(outcome)) return outcome.response?.status;
  if (outcome instanceof Error || !outcome || typeof outcome !== 'object') return undefined;
  const response = outcome as Partial<AxiosResponse>;
  return typeof response.status === 'number' && response.headers !== undefined && response.config !== undefined
    ? response.status
    : undefined;
}

/** The kind of a failure that produced no HTTP answer, or undefined when `error` is not one. */
export function connectionFailureKind(error: unknown): 'network' | 'timeout' | undefined {
  if (!error || typeof error !== 'object' || isCancellation(error)) return undefined;
  if (isAxiosError(error) && error.response) return undefined;
  const code = codeOf(error);
  if (code && TIMEOUT_ERROR_CODES.has(code)) return 'timeout';
  if (code && NETWORK_ERROR_CODES.has(code)) return 'network';
  if (/socket hang up/i.test((error as Error).message ?? '')) return 'network';
  return undefined;
}

/**
 * Whether an outcome (a thrown error, or a response accepted by a custom `validateStatus`) says the
 * upstream is unhealthy: a network error, a timeout or a 5xx. A 4xx is an answer, not a failure.
 */
export function isUpstreamFailure(outcome: unknown): boolean {
  if (connectionFailureKind(outcome)) return true;
  const status = statusOf(outcome);
  return status !== undefined && status >= 500;
}
