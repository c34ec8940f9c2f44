import { CanceledError, type AxiosRequestConfig, type AxiosResponse } from 'axios';
import { DelegateBackoff, fullJitterGenerator, handleWhen, retry, type FailureReason, type IRetryBackoffContext } from 'cockatiel';
import { callHeaders } from './call-headers.js';
import { connectionFailureKind, statusOf } from './upstream-failure.js';
import type { RetryOptions } from './retry-options.js';

export type { RetryOptions } from './retry-options.js';

/** Methods that may be repeated without changing the outcome (RFC 9110 §9.2.2), whatever their headers. */
const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
/** Methods that are idempotent only when the caller names the attempt with an `Idempotency-Key`. */
const KEYED_METHODS: ReadonlySet<string> = new Set(['POST', 'PATCH']);
/** Answers of a gateway or an overloaded server: the request was (very probably) not processed, try again. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);

/** How an attempt ended, in cockatiel's terms: it threw `error`, or resolved with `value` (a response). */
export type AttemptOutcome = FailureReason<AxiosResponse>;

/** Why an attempt is retried: the HTTP status, or 'network' / 'timeout'. */
export type RetryCause = number | 'network' | 'timeout';

export interface RetryEvent {
  /** The attempt that just failed (1-based). */
  attempt: number;
  /** Wait before the next attempt. */
  delayMs: number;
  cause: RetryCause;
}

export interface RunOptions {
  /** Stops retrying once aborted: the call then rejects at once with axios' CanceledError. */
  signal?: AbortSignal;
  onRetry?: (event: RetryEvent) => void;
}

/**
 * Why `outcome` calls for another attempt, or undefined when it does not: network errors, timeouts and
 * 502/503/504, thrown or resolved (only a caller's validateStatus lets a 5xx resolve). Never a
 * cancellation, an open circuit, another status or an error of our own.
 */
export function retryCause(outcome: AttemptOutcome): RetryCause | undefined {
  if ('value' in outcome) return RETRYABLE_STATUSES.has(outcome.value.status) ? outcome.value.status : undefined;
  const status = statusOf(outcome.error);
  if (status !== undefined) return RETRYABLE_STATUSES.has(status) ? status : undefined;
  return connectionFailureKind(outcome.error);
}

/**
 * Retries of one signed call: cockatiel's retry policy, with exponential backoff and full jitter
 * ("Exponential Backoff And Jitter", AWS Architecture Blog; cockatiel's fullJitterGenerator): before
 * attempt n+1 the client waits a uniformly random time in [0, min(maxDelayMs, baseDelayMs * 2^(n-1))),
 * or what a 503's `Retry-After` asks, capped at maxDelayMs. Only failures that say "try again" are
 * retried (see retryCause). The caller decides which requests may be retried at all
 * (isRetryableRequest), and its `attempt` function must sign every attempt afresh (new `created`, new
 * nonce), or the upstream would refuse the retry as a replay.
 */
export class RetryPolicy {
  private readonly backoff = new DelegateBackoff((context: IRetryBackoffContext<unknown>) =>
    this.delayAfter(context.result as AttemptOutcome, context.attempt),
  );

  constructor(
    readonly options: Readonly<Required<RetryOptions>>,
    /** Reads a `Retry-After` HTTP-date against this clock. */
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * GET, HEAD, OPTIONS, PUT and DELETE always; POST and PATCH only with a non-empty `Idempotency-Key`
   * header (the upstream then applies the operation at most once, and answers a repeat with the first
   * outcome). Anything else is sent once.
   */
  static isRetryableRequest(method: string | undefined, headers?: AxiosRequestConfig['headers']): boolean {
    const verb = (method ?? 'GET').toUpperCase();
    if (IDEMPOTENT_METHODS.has(verb)) return true;
    return KEYED_METHODS.has(verb) && (callHeaders(headers)['idempotency-key'] ?? '').trim().length > 0;
  }

  /** The wait after the `attempt`-th attempt ended with a retried `outcome`: a 503's Retry-After (capped), else full jitter. */
  delayAfter(outcome: AttemptOutcome, attempt: number): number {
    const { baseDelayMs, maxDelayMs } = this.options;
    if (retryCause(outcome) === 503) {
      const response = 'value' in outcome ? outcome.value : (outcome.error as { response?: AxiosResponse }).response;
      const asked = parseRetryAfter(response?.headers?.['retry-after'], this.now());
      if (asked !== undefined) return Math.min(asked, maxDelayMs);
    }
    const [delay] = fullJitterGenerator(attempt - 1, {
      initialDelay: baseDelayMs,
      maxDelay: maxDelayMs,
      exponent: 2,
      generator: fullJitterGenerator,
    });
    return delay;
  }

  /** Runs `attempt` (which must sign afresh on each call) up to maxAttempts times. */
  async run<T>(
    attempt: (attemptNumber: number) => Promise<AxiosResponse<T>>,
    { signal, onRetry }: RunOptions = {},
  ): Promise<AxiosResponse<T>> {
    // A policy per call, so that its onRetry listener hears this call only. cockatiel counts retries, not attempts.
    const policy = retry(
      handleWhen((error) => retryCause({ error }) !== undefined).orWhenResult(
        (value) => retryCause({ value: value as AxiosResponse }) !== undefined,
      ),
      { maxAttempts: this.options.maxAttempts - 1, backoff: this.backoff },
    );
    const listener =
      onRetry &&
      policy.onRetry(({ delay, attempt: failed, ...outcome }) =>
        onRetry({ attempt: failed, delayMs: delay, cause: retryCause(outcome as AttemptOutcome)! }),
      );
    const calls = policy.execute(({ attempt: retries }) => {
      // cockatiel's wait between attempts does not listen to the signal: an abort during it ends the
      // call at once (below), and the attempt that would follow the wait is never sent.
      if (signal?.aborted) throw new CanceledError('Retry cancelled');
      return attempt(retries + 1);
    }, signal);
    try {
      return await (signal ? untilAborted(calls, signal) : calls);
    } finally {
      listener?.dispose();
    }
  }
}

/** `work`, or a CanceledError as soon as `signal` aborts, whichever comes first. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new CanceledError('Retry cancelled'));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([work, aborted]).finally(() => signal.removeEventListener('abort', onAbort!));
}

/** `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP-date; milliseconds from now, or undefined if absent or malformed. */
export function parseRetryAfter(value: unknown, now: number = Date.now()): number | undefined {
  if (Array.isArray(value)) value = value[0];
  if (typeof value === 'number') value = String(value);
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP-date names a weekday and a month (`Sun, 06 Nov 1994 08:49:37 GMT`); "-1" or "1.5" is no date.
  if (!/[a-z]{3}/i.test(text)) return undefined;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
