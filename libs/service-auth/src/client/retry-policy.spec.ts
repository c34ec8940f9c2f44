import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { AxiosError, AxiosHeaders, CanceledError, isCancel, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';
import { DEFAULT_RETRY_OPTIONS } from './resolved-client-options.js';
import { parseRetryAfter, retryCause, RetryPolicy, type RetryEvent } from './retry-policy.js';
import { UpstreamUnavailableError } from './upstream-unavailable.error.js';

const config = { headers: new AxiosHeaders() } as InternalAxiosRequestConfig;

function response(status: number, headers: Record<string, string> = {}): AxiosResponse {
  return { status, statusText: '', headers, config, data: {} };
}

function httpError(status: number, headers: Record<string, string> = {}): AxiosError {
  return new AxiosError(
    `Request failed with status code ${status}`,
    status >= 500 ? 'ERR_BAD_RESPONSE' : 'ERR_BAD_REQUEST',
    config,
    {},
    response(status, headers),
  );
}

function networkError(code: string, message = `connect ${code}`): AxiosError {
  return new AxiosError(message, code, config, {});
}

const policyOf = (options: Partial<typeof DEFAULT_RETRY_OPTIONS> = {}, now?: () => number) =>
  new RetryPolicy({ ...DEFAULT_RETRY_OPTIONS, ...options }, now);

/** Math.random, as cockatiel's full-jitter generator reads it. */
const randomIs = (value: number) => jest.spyOn(Math, 'random').mockReturnValue(value);

afterEach(() => {
  jest.restoreAllMocks();
});

describe('RetryPolicy', () => {
  describe('backoff (exponential, full jitter)', () => {
    const network = { error: networkError('ECONNREFUSED') };

    it('doubles the ceiling per attempt up to maxDelayMs', () => {
      randomIs(0.999_999);
      const policy = policyOf({ baseDelayMs: 100, maxDelayMs: 2000 });
      expect([1, 2, 3, 4, 5, 6, 10, 60].map((n) => policy.delayAfter(network, n))).toEqual([99, 199, 399, 799, 1599, 1999, 1999, 1999]);
    });

    it('draws the delay uniformly in [0, ceiling): random 0 waits 0, random just below 1 waits ceiling - 1', () => {
      const policy = policyOf({ baseDelayMs: 100, maxDelayMs: 2000 });
      randomIs(0);
      expect(policy.delayAfter(network, 3)).toBe(0);
      randomIs(0.5);
      expect(policy.delayAfter(network, 3)).toBe(200);
      randomIs(0.999_999);
      expect(policy.delayAfter(network, 3)).toBe(399);
      expect(policy.delayAfter(network, 20)).toBe(1999);
    });

    it('stays within bounds and is actually jittered with the real random source', () => {
      const policy = policyOf({ baseDelayMs: 100, maxDelayMs: 2000 });
      for (const attempt of [1, 2, 3, 4, 5, 6]) {
        const ceiling = Math.min(2000, 100 * 2 ** (attempt - 1));
        const samples = Array.from({ length: 500 }, () => policy.delayAfter(network, attempt));
        expect(Math.min(...samples)).toBeGreaterThanOrEqual(0);
        expect(Math.max(...samples)).toBeLessThan(ceiling);
        expect(samples.every(Number.isInteger)).toBe(true);
        // 500 draws from ≥ 100 values: never all the same (probability < 100^-499).
        expect(new Set(samples).size).toBeGreaterThan(1);
      }
    });

    it("honours a 503's Retry-After (seconds or HTTP-date), capped at maxDelayMs", () => {
      randomIs(0.5);
      const now = Date.parse('2026-11-02T10:00:00Z');
      const p = policyOf({ maxDelayMs: 2000 }, () => now);
      expect(p.delayAfter({ error: httpError(503, { 'retry-after': '1' }) }, 1)).toBe(1000);
      expect(p.delayAfter({ error: httpError(503, { 'retry-after': '0' }) }, 1)).toBe(0);
      expect(p.delayAfter({ error: httpError(503, { 'retry-after': '120' }) }, 1)).toBe(2000);
      expect(p.delayAfter({ error: httpError(503, { 'retry-after': 'Mon, 02 Nov 2026 10:00:01 GMT' }) }, 1)).toBe(1000);
      expect(p.delayAfter({ value: response(503, { 'retry-after': '1' }) }, 1)).toBe(1000);
      // Malformed: the usual backoff.
      expect(p.delayAfter({ error: httpError(503, { 'retry-after': 'soon' }) }, 1)).toBe(50);
      // Only on 503.
      expect(p.delayAfter({ error: httpError(502, { 'retry-after': '1' }) }, 1)).toBe(50);
    });
  });

  describe('which requests are retryable', () => {
    it.each(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'get', 'delete'])('%s always', (method) => {
      expect(RetryPolicy.isRetryableRequest(method)).toBe(true);
      expect(RetryPolicy.isRetryableRequest(method, {})).toBe(true);
    });

    it('undefined method (axios default GET)', () => {
      expect(RetryPolicy.isRetryableRequest(undefined)).toBe(true);
    });

    it.each(['POST', 'PATCH', 'post'])('%s only with a non-empty Idempotency-Key', (method) => {
      expect(RetryPolicy.isRetryableRequest(method)).toBe(false);
      expect(RetryPolicy.isRetryableRequest(method, { 'content-type': 'application/json' })).toBe(false);
      expect(RetryPolicy.isRetryableRequest(method, { 'idempotency-key': '' })).toBe(false);
      expect(RetryPolicy.isRetryableRequest(method, { 'idempotency-key': '  ' })).toBe(false);
      expect(RetryPolicy.isRetryableRequest(method, { 'idempotency-key': 'k-1' })).toBe(true);
      expect(RetryPolicy.isRetryableRequest(method, { 'Idempotency-Key': 'k-1' })).toBe(true);
      expect(RetryPolicy.isRetryableRequest(method, new AxiosHeaders({ 'IDEMPOTENCY-KEY': 'k-1' }))).toBe(true);
    });

    it.each(['TRACE', 'CONNECT', 'QUERY', 'PROPFIND'])('%s never', (method) => {
      expect(RetryPolicy.isRetryableRequest(method, { 'idempotency-key': 'k-1' })).toBe(false);
    });
  });

  describe('which failures are retried', () => {
    it.each([
      ['ECONNREFUSED', networkError('ECONNREFUSED'), 'network'],
      ['ECONNRESET', networkError('ECONNRESET', 'read ECONNRESET'), 'network'],
      ['socket hang up', networkError('ECONNRESET', 'socket hang up'), 'network'],
      ['socket hang up without a code', new AxiosError('socket hang up', undefined, config, {}), 'network'],
      ['EPIPE', networkError('EPIPE'), 'network'],
      ['axios timeout (ECONNABORTED)', networkError('ECONNABORTED', 'timeout of 1000ms exceeded'), 'timeout'],
      ['ETIMEDOUT', networkError('ETIMEDOUT'), 'timeout'],
      ['502', httpError(502), 502],
      ['503', httpError(503), 503],
      ['504', httpError(504), 504],
    ])('%s: retried', (_name, error, cause) => {
      expect(retryCause({ error })).toBe(cause);
    });

    it.each([400, 401, 403, 404, 408, 409, 413, 422, 429, 500, 501, 505])('%s: not retried', (status) => {
      expect(retryCause({ error: httpError(status) })).toBeUndefined();
    });

    it('a resolved 502/503/504 (caller-supplied validateStatus) is retried, a resolved 200 or 500 is not', () => {
      expect(retryCause({ value: response(503) })).toBe(503);
      expect(retryCause({ value: response(502) })).toBe(502);
      expect(retryCause({ value: response(200) })).toBeUndefined();
      expect(retryCause({ value: response(500) })).toBeUndefined();
    });

    it('cancellations, open circuits and errors of our own are not retried', () => {
      expect(retryCause({ error: new CanceledError('cancelled') })).toBeUndefined();
      expect(retryCause({ error: new UpstreamUnavailableError('http://inventory:8082') })).toBeUndefined();
      expect(retryCause({ error: new Error('SignedHttpService has no credential to sign with') })).toBeUndefined();
      expect(retryCause({ error: new TypeError('Invalid URL') })).toBeUndefined();
    });
  });

  describe('parseRetryAfter', () => {
    const now = Date.parse('2026-11-02T10:00:00Z');
    it.each([
      ['3', 3000],
      [' 3 ', 3000],
      ['Mon, 02 Nov 2026 10:00:05 GMT', 5000],
      ['Mon, 02 Nov 2026 09:00:00 GMT', 0],
      ['', undefined],
      ['-1', undefined],
      ['1.5', undefined],
      ['tomorrow', undefined],
    ])('%j -> %s', (value, expected) => {
      expect(parseRetryAfter(value, now)).toBe(expected);
    });
  });

  describe('run', () => {
    // cockatiel waits between attempts with setTimeout: fake timers let the waits pass without real time.
    beforeEach(() => {
      jest.useFakeTimers();
    });
    afterEach(() => {
      jest.useRealTimers();
    });

    /** Runs `attempt` under `policy`, letting every wait pass; the outcome, never a rejection. */
    async function settled(
      policy: RetryPolicy,
      attempt: (n: number) => Promise<AxiosResponse>,
      options: Parameters<RetryPolicy['run']>[1] = {},
    ) {
      const running = policy.run(attempt, options).then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      );
      await jest.runAllTimersAsync();
      return running;
    }

    it('calls the attempt function once per attempt, waits the backoff between them, and returns the first success', async () => {
      randomIs(0.5);
      const policy = policyOf({ maxAttempts: 3 });
      const attempt = jest.fn<(n: number) => Promise<AxiosResponse>>();
      attempt.mockRejectedValueOnce(networkError('ECONNRESET')).mockRejectedValueOnce(httpError(503)).mockResolvedValueOnce(response(200));
      const events: RetryEvent[] = [];
      const running = policy.run(attempt, { onRetry: (e) => events.push(e) });
      await jest.advanceTimersByTimeAsync(49);
      expect(attempt).toHaveBeenCalledTimes(1);
      await jest.advanceTimersByTimeAsync(1);
      expect(attempt).toHaveBeenCalledTimes(2);
      await jest.advanceTimersByTimeAsync(100);
      await expect(running).resolves.toMatchObject({ status: 200 });
      expect(attempt.mock.calls.map(([n]) => n)).toEqual([1, 2, 3]);
      expect(events).toEqual([
        { attempt: 1, delayMs: 50, cause: 'network' },
        { attempt: 2, delayMs: 100, cause: 503 },
      ]);
    });

    it('gives up after maxAttempts with the last error', async () => {
      const policy = policyOf({ maxAttempts: 3 });
      const last = networkError('ECONNREFUSED', 'the last one');
      const attempt = jest.fn<() => Promise<AxiosResponse>>();
      attempt
        .mockRejectedValueOnce(networkError('ECONNREFUSED'))
        .mockRejectedValueOnce(networkError('ECONNREFUSED'))
        .mockRejectedValueOnce(last);
      expect(await settled(policy, attempt)).toEqual({ error: last });
      expect(attempt).toHaveBeenCalledTimes(3);
    });

    it('maxAttempts 1: one attempt, no retry', async () => {
      const attempt = jest.fn<() => Promise<AxiosResponse>>().mockRejectedValue(networkError('ECONNREFUSED'));
      expect(await settled(policyOf({ maxAttempts: 1 }), attempt)).toMatchObject({ error: { code: 'ECONNREFUSED' } });
      expect(attempt).toHaveBeenCalledTimes(1);
    });

    it('returns a resolved 503 once the attempts are spent', async () => {
      const policy = policyOf({ maxAttempts: 2 });
      const attempt = jest.fn<() => Promise<AxiosResponse>>().mockResolvedValue(response(503));
      expect(await settled(policy, attempt)).toMatchObject({ value: { status: 503 } });
      expect(attempt).toHaveBeenCalledTimes(2);
    });

    it('does not retry a 409 or an open circuit', async () => {
      const policy = policyOf({ maxAttempts: 5 });
      const conflict = httpError(409);
      const attempt = jest.fn<() => Promise<AxiosResponse>>().mockRejectedValue(conflict);
      expect(await settled(policy, attempt)).toEqual({ error: conflict });
      expect(attempt).toHaveBeenCalledTimes(1);

      const open = new UpstreamUnavailableError('http://inventory:8082');
      const refused = jest
        .fn<() => Promise<AxiosResponse>>()
        .mockRejectedValueOnce(networkError('ECONNREFUSED'))
        .mockRejectedValueOnce(open);
      expect(await settled(policy, refused)).toEqual({ error: open });
      expect(refused).toHaveBeenCalledTimes(2);
    });

    it('an abort during the backoff ends the call at once with a CanceledError, and no attempt follows', async () => {
      randomIs(0.99);
      const controller = new AbortController();
      const policy = policyOf({ maxAttempts: 3, baseDelayMs: 60_000, maxDelayMs: 60_000 });
      const attempt = jest.fn<() => Promise<AxiosResponse>>().mockRejectedValue(networkError('ECONNREFUSED'));
      const running = policy.run(attempt, { signal: controller.signal }).catch((e: unknown) => e);
      // The first attempt fails, then the policy waits ~59 s; abort while it waits.
      await jest.advanceTimersByTimeAsync(1000);
      controller.abort();
      expect(isCancel(await running)).toBe(true);
      await jest.runAllTimersAsync();
      expect(attempt).toHaveBeenCalledTimes(1);
    });

    it('does not retry once the signal is aborted', async () => {
      const controller = new AbortController();
      const policy = policyOf({ maxAttempts: 3 });
      const attempt = jest.fn(async () => {
        controller.abort();
        throw networkError('ECONNRESET');
      });
      const outcome = await settled(policy, attempt, { signal: controller.signal });
      expect('error' in outcome && isCancel(outcome.error)).toBe(true);
      expect(attempt).toHaveBeenCalledTimes(1);
    });
  });
});
