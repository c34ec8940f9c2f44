import { AxiosHeaders, CanceledError, type AxiosResponse } from 'axios';
import { connectionFailureKind, statusOf } from './upstream-failure.js';
import type { RetryOptions } from './retry-options.js';

export type { RetryOptions } from './retry-options.js';

/** Methods that may be repeated without changing the outcome (RFC 9110 §9.2.2), whatever their headers. */
const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
/** Methods that are idempotent only when the caller names the attempt with an `Idempotency-Key`. */
const KEYED_METHODS: ReadonlySet<string> = new Set(['POST', 'PATCH']);
/** Answers of a gateway or an overloaded server: the request was (very probably) not processed, try again. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);

/** A finished attempt: the response it resolved with, or the error it failed with. */
export type AttemptOutcome<T = unknown> = { response: AxiosResponse<T> } | { error: unknown };

export interface RetryEvent {
  /** The attempt that just failed (1-based). */
  attempt: number;
  /** Wait before the next attempt. */
  delayMs: number;
  /** HTTP status, or 'network' / 'timeout'. */
  cause: number | 'network' | 'timeout';
}

export interface RunOptions {
  /** Stops waiting and retrying once aborted (the pending wait rejects with axios' CanceledError). */
  signal?: AbortSignal;
  onRetry?: (event: RetryEvent) => void;
}

export interface RetryPolicyDependencies {
  /** Uniform in [0, 1). Default Math.random. */
  random?: () => number;
  /** Default Date.now (to read a `Retry-After` HTTP-date). */
  now?: () => number;
  /** Default: an abortable setTimeout. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new CanceledError('Retry cancelled'));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new CanceledError('Retry cancelled'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Exponential backoff with full jitter ("Exponential Backoff And Jitter", AWS Architecture Blog): before
 * attempt n+1 the client waits a uniformly random time in [0, min(maxDelayMs, baseDelayMs * 2^(n-1))).
 * Only idempotent requests are retried, only on failures that say "try again" (network errors, timeouts,
 * 502/503/504), never on another 4xx or 5xx. The caller's `attempt` function must sign every attempt
 * afresh (new `created`, new nonce), or the upstream would refuse the retry as a replay.
 */
export class RetryPolicy {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;

  constructor(options: Readonly<Required<RetryOptions>>, dependencies: RetryPolicyDependencies = {}) {
    this.maxAttempts = options.maxAttempts;
    this.baseDelayMs = options.baseDelayMs;
    this.maxDelayMs = options.maxDelayMs;
    this.random = dependencies.random ?? Math.random;
    this.now = dependencies.now ?? Date.now;
    this.sleep = dependencies.sleep ?? abortableSleep;
  }

  /**
   * GET, HEAD, OPTIONS, PUT and DELETE always; POST and PATCH only with a non-empty `Idempotency-Key`
   * header (the upstream then applies the operation at most once, and answers a repeat with the first
   * outcome). Anything else is sent once.
   */
  static isRetryableRequest(method: string | undefined, headers?: unknown): boolean {
    const verb = (method ?? 'GET').toUpperCase();
    if (IDEMPOTENT_METHODS.has(verb)) return true;
    if (!KEYED_METHODS.has(verb) || !headers) return false;
    const key = AxiosHeaders.from(headers as any).get('idempotency-key');
    return typeof key === 'string' ? key.trim().length > 0 : key !== undefined && key !== null && key !== false;
  }

  /** The ceiling of the backoff after the `attempt`-th attempt failed: min(maxDelayMs, baseDelayMs * 2^(attempt-1)). */
  backoffCeiling(attempt: number): number {
    return Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  }

  /** Full jitter: uniform in [0, backoffCeiling(attempt)), whole milliseconds. */
  backoffDelay(attempt: number): number {
    return Math.floor(this.random() * this.backoffCeiling(attempt));
  }

  /**
   * How long to wait before retrying after the `attempt`-th attempt ended with `outcome`, or undefined
   * if it must not be retried (success, a non-retryable answer, or no attempt left).
   * A 503 with `Retry-After` waits what the upstream asked, capped at maxDelayMs.
   */
  retryDelay(outcome: AttemptOutcome, attempt: number): number | undefined {
    if (attempt >= this.maxAttempts) return undefined;
    const cause = this.retryCause(outcome);
    if (cause === undefined) return undefined;
    if (cause === 503) {
      const response = 'response' in outcome ? outcome.response : (outcome.error as { response?: AxiosResponse }).response;
      const asked = parseRetryAfter(response?.headers?.['retry-after'], this.now());
      if (asked !== undefined) return Math.min(asked, this.maxDelayMs);
    }
    return this.backoffDelay(attempt);
  }

  /** Runs `attempt` (which must sign afresh on each call) up to maxAttempts times. */
  async run<T>(attempt: (attemptNumber: number) => Promise<AxiosResponse<T>>, options: RunOptions = {}): Promise<AxiosResponse<T>> {
    for (let n = 1; ; n++) {
      let outcome: AttemptOutcome<T>;
      try {
        outcome = { response: await attempt(n) };
      } catch (error) {
        outcome = { error };
      }
      const delayMs = options.signal?.aborted ? undefined : this.retryDelay(outcome, n);
      if (delayMs === undefined) {
        if ('error' in outcome) throw outcome.error;
        return outcome.response;
      }
      options.onRetry?.({ attempt: n, delayMs, cause: this.retryCause(outcome)! });
      await this.sleep(delayMs, options.signal);
    }
  }

  private retryCause(outcome: AttemptOutcome): RetryEvent['cause'] | undefined {
    if ('response' in outcome) {
      // Resolved: only a caller's validateStatus lets a 5xx through; retry it like a thrown one.
      return RETRYABLE_STATUSES.has(outcome.response.status) ? outcome.response.status : undefined;
    }
    const status = statusOf(outcome.error);
    if (status !== undefined) return RETRYABLE_STATUSES.has(status) ? status : undefined;
    return connectionFailureKind(outcome.error);
  }
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
