import { describe, expect, it, jest } from '@jest/globals';
import { AxiosError, AxiosHeaders, CanceledError, isCancel, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';
import { DEFAULT_RETRY_OPTIONS } from '../nest/resolved-options.js';
import { parseRetryAfter, RetryPolicy, type AttemptOutcome } from './retry-policy.js';
import { UpstreamUnavailableError } from './upstream-unavailable.error.js';

const config = { headers: new AxiosHeaders() } as InternalAxiosRequestConfig;

function response(status: number, headers: Record<string, string> = {}): AxiosResponse {
  return { status, statusText: '', headers, config, data: {} };
}

function httpError(status: number, headers: Record<string, string> = {}): AxiosError {
  return new AxiosError(`Request failed with status code ${status}`, status >= 500 ? 'ERR_BAD_RESPONSE' : 'ERR_BAD_REQUEST', config, {}, response(status, headers));
}

function networkError(code: string, message = `connect ${code}`): AxiosError {
  return new AxiosError(message, code, config, {});
}

const noSleep = async () => undefined;

describe('RetryPolicy', () => {
  describe('defaults', () => {
    it('3 attempts, 100 ms base, 2000 ms ceiling', () => {
      const policy = new RetryPolicy(DEFAULT_RETRY_OPTIONS);
      expect(DEFAULT_RETRY_OPTIONS).toEqual({ maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 2000 });
      expect([policy.maxAttempts, policy.baseDelayMs, policy.maxDelayMs]).toEqual([3, 100, 2000]);
    });
  });

  describe('backoff (exponential, full jitter)', () => {
    it('doubles the ceiling per attempt up to maxDelayMs', () => {
      const policy = new RetryPolicy({ ...DEFAULT_RETRY_OPTIONS, baseDelayMs: 100, maxDelayMs: 2000 });
      expect([1, 2, 3, 4, 5, 6, 10, 60].map((n) => policy.backoffCeiling(n))).toEqual([100, 200, 400, 800, 1600, 2000, 2000, 2000]);
    });

    it('draws the delay uniformly in [0, ceiling): random 0 waits 0, random just below 1 waits ceiling - 1', () => {
      let next = 0;
      const policy = new RetryPolicy({ ...DEFAULT_RETRY_OPTIONS, baseDelayMs: 100, maxDelayMs: 2000 }, { random: () => next });
      next = 0;
      expect(policy.backoffDelay(3)).toBe(0);
      next = 0.5;
      expect(policy.backoffDelay(3)).toBe(200);
      next = 0.999_999;
      expect(policy.backoffDelay(3)).toBe(399);
      expect(policy.backoffDelay(20)).toBe(1999);
    });

    it('stays within bounds and is actually jittered with the real random source', () => {
      const policy = new RetryPolicy({ ...DEFAULT_RETRY_OPTIONS, baseDelayMs: 100, maxDelayMs: 2000 });
      for (const attempt of [1, 2, 3, 4, 5, 6]) {
        const ceiling = policy.backoffCeiling(attempt);
        const samples = Array.from({ length: 500 }, () => policy.backoffDelay(attempt));
        expect(Math.min(...samples)).toBeGreaterThanOrEqual(0);
        expect(Math.max(...samples)).toBeLessThan(ceiling);
        expect(samples.every(Number.isInteger)).toBe(true);
        // 500 draws from ≥ 100 values: never all the same (probability < 100^-499).
        expect(new Set(samples).size).toBeGreaterThan(1);
      }
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
    const policy = new RetryPolicy({ ...DEFAULT_RETRY_OPTIONS, maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 2000 }, { random: () => 0.5 });
    const retried = (outcome: AttemptOutcome, attempt = 1) => policy.retryDelay(outcome, attempt);

    it.each([
      ['ECONNREFUSED', networkError('ECONNREFUSED')],
      ['ECONNRESET', networkError('ECONNRESET', 'read ECONNRESET')],
      ['socket hang up', networkError('ECONNRESET', 'socket hang up')],
      ['socket hang up without a code', new AxiosError('socket hang up', undefined, config, {})],
      ['EPIPE', networkError('EPIPE')],
      ['axios timeout (ECONNABORTED)', networkError('ECONNABORTED', 'timeout of 1000ms exceeded')],
      ['ETIMEDOUT', networkError('ETIMEDOUT')],
      ['502', httpError(502)],
      ['503', httpError(503)],
      ['504', httpError(504)],
    ])('%s: retried after the jittered backoff', (_name, error) => {
      expect(retried({ error })).toBe(50);
      expect(retried({ error }, 2)).toBe(100);
    });

    it.each([400, 401, 403, 404, 408, 409, 413, 422, 429, 500, 501, 505])('%s: not retried', (status) => {
      expect(retried({ error: httpError(status) })).toBeUndefined();
    });

    it('a resolved 502/503/504 (caller-supplied validateStatus) is retried, a resolved 200 or 500 is not', () => {
      expect(retried({ response: response(503) })).toBe(50);
      expect(retried({ response: response(502) })).toBe(50);
      expect(retried({ response: response(200) })).toBeUndefined();
      expect(retried({ response: response(500) })).toBeUndefined();
    });

    it('cancellations, open circuits and errors of our own are not retried', () => {
      expect(retried({ error: new CanceledError('cancelled') })).toBeUndefined();
      expect(retried({ error: new UpstreamUnavailableError('http://inventory:8082') })).toBeUndefined();
      expect(retried({ error: new Error('SignedHttpService has no credential to sign with') })).toBeUndefined();
      expect(retried({ error: new TypeError('Invalid URL') })).toBeUndefined();
    });

    it('not after the last attempt', () => {
      expect(retried({ error: networkError('ECONNREFUSED') }, 2)).toBeDefined();
      expect(retried({ error: networkError('ECONNREFUSED') }, 3)).toBeUndefined();
      expect(new RetryPolicy({ ...DEFAULT_RETRY_OPTIONS, maxAttempts: 1 }).retryDelay({ error: networkError('ECONNREFUSED') }, 1)).toBeUndefined();
    });

    it("honours a 503's Retry-After (seconds or HTTP-date), capped at maxDelayMs", () => {
      const now = Date.parse('2026-11-02T10:00:00Z');
      const p = new RetryPolicy({ ...DEFAULT_RETRY_OPTIONS, maxDelayMs: 2000 }, { random: () => 0.5, now: () => now });
      expect(p.retryDelay({ error: httpError(503, { 'retry-after': '1' }) }, 1)).toBe(1000);
      expect(p.retryDelay({ error: httpError(503, { 'retry-after': '0' }) }, 1)).toBe(0);
      expect(p.retryDelay({ error: httpError(503, { 'retry-after': '120' }) }, 1)).toBe(2000);
      expect(p.retryDelay({ error: httpError(503, { 'retry-after': 'Mon, 02 Nov 2026 10:00:01 GMT' }) }, 1)).toBe(1000);
      expect(p.retryDelay({ response: response(503, { 'retry-after': '1' }) }, 1)).toBe(1000);
      // Malformed: the usual backoff.
      expect(p.retryDelay({ error: httpError(503, { 'retry-after': 'soon' }) }, 1)).toBe(50);
      // Only on 503.
      expect(p.retryDelay({ error: httpError(502, { 'retry-after': '1' }) }, 1)).toBe(50);
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
    it('calls the attempt function once per attempt and returns the first success', async () => {
      const delays: number[] = [];
      const policy = new RetryPolicy({ ...DEFAULT_RETRY_OPTIONS, maxAttempts: 3 }, { random: () => 0.5, sleep: async (ms) => void delays.push(ms) });
      const attempt = jest.fn<(n: number) => Promise<AxiosResponse>>();
      attempt.mockRejectedValueOnce(networkError('ECONNRESET')).mockRejectedValueOnce(httpError(503)).mockResolvedValueOnce(response(200));
      const events: unknown[] = [];
      await expect(policy.run(attempt, { onRetry: (e) => events.push(e) })).resolves.toMatchObject({ status: 200 });
      expect(attempt.mock.calls.map(([n]) => n)).toEqual([1, 2, 3]);
      expect(delays).toEqual([50, 100]);
      expect(events).toEqual([
        { attempt: 1, delayMs: 50, cause: 'network' },
        { attempt: 2, delayMs: 100, cause: 503 },
      ]);
    });

    it('gives up after maxAttempts with the last error', async () => {
      const policy = new RetryPolicy({ ...DEFAULT_RETRY_OPTIONS, maxAttempts: 3 }, { sleep: noSleep });
      const last = networkError('ECONNREFUSED', 'the last one');
      const attempt = jest.fn<() => Promise<AxiosResponse>>();
      attempt.mockRejectedValueOnce(networkError('ECONNREFUSED')).mockRejectedValueOnce(networkError('ECONNREFUSED')).mockRejectedValueOnce(last);
      await expect(policy.run(attempt)).rejects.toBe(last);
      expect(attempt).toHaveBeenCalledTimes(3);
    });

    it('returns a resolved 503 once the attempts are spent', async () => {
      const policy = new RetryPolicy({ ...DEFAULT_RETRY_OPTIONS, maxAttempts: 2 }, { sleep: noSleep });
      const attempt = jest.fn<() => Promise<AxiosResponse>>().mockResolvedValue(response(503));
      await expect(policy.run(attempt)).resolves.toMatchObject({ status: 503 });
      expect(attempt).toHaveBeenCalledTimes(2);
    });

    it('does not retry a 409 or an open circuit', async () => {
      const policy = new RetryPolicy({ ...DEFAULT_RETRY_OPTIONS, maxAttempts: 5 }, { sleep: noSleep });
      const conflict = httpError(409);
      const attempt = jest.fn<() => Promise<AxiosResponse>>().mockRejectedValue(conflict);
      await expect(policy.run(attempt)).rejects.toBe(conflict);
      expect(attempt).toHaveBeenCalledTimes(1);

      const open = new UpstreamUnavailableError('http://inventory:8082');
      const refused = jest.fn<() => Promise<AxiosResponse>>().mockRejectedValueOnce(networkError('ECONNREFUSED')).mockRejectedValueOnce(open);
      await expect(policy.run(refused)).rejects.toBe(open);
      expect(refused).toHaveBeenCalledTimes(2);
    });

    it('an abort during the backoff stops retrying with a CanceledError (real timer)', async () => {
      const controller = new AbortController();
      const policy = new RetryPolicy({ ...DEFAULT_RETRY_OPTIONS, maxAttempts: 3, baseDelayMs: 60_000, maxDelayMs: 60_000 }, { random: () => 0.99 });
      const attempt = jest.fn<() => Promise<AxiosResponse>>().mockRejectedValue(networkError('ECONNREFUSED'));
      const running = policy.run(attempt, { signal: controller.signal });
      // The first attempt fails, then the policy waits ~59 s; abort while it waits.
      await new Promise((resolve) => setImmediate(resolve));
      controller.abort();
      const error = await running.catch((e: unknown) => e);
      expect(isCancel(error)).toBe(true);
      expect(attempt).toHaveBeenCalledTimes(1);
    });

    it('does not retry once the signal is aborted', async () => {
      const controller = new AbortController();
      const policy = new RetryPolicy({ ...DEFAULT_RETRY_OPTIONS, maxAttempts: 3 }, { sleep: noSleep });
      const attempt = jest.fn(async () => {
        controller.abort();
        throw networkError('ECONNRESET');
      });
      await expect(policy.run(attempt, { signal: controller.signal })).rejects.toMatchObject({ code: 'ECONNRESET' });
      expect(attempt).toHaveBeenCalledTimes(1);
    });
  });
});
