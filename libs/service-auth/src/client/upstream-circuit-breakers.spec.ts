import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { AxiosError, AxiosHeaders, CanceledError, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';
import { DEFAULT_CIRCUIT_BREAKER_OPTIONS } from './resolved-client-options.js';
import { UpstreamCircuitBreakers, upstreamOrigin, type UpstreamCircuitState } from './upstream-circuit-breakers.js';
import { UpstreamUnavailableError } from './upstream-unavailable.error.js';

const config = { headers: new AxiosHeaders() } as InternalAxiosRequestConfig;
const INVENTORY = 'http://inventory:8082';
const PAYMENTS = 'http://payments:8083';

function response(status: number): AxiosResponse {
  return { status, statusText: '', headers: {}, config, data: {} };
}
function httpError(status: number): AxiosError {
  return new AxiosError(`Request failed with status code ${status}`, 'ERR_BAD_RESPONSE', config, {}, response(status));
}
const refused = () => new AxiosError('connect ECONNREFUSED 127.0.0.1:8082', 'ECONNREFUSED', config, {});
const timedOut = () => new AxiosError('timeout of 5000ms exceeded', 'ECONNABORTED', config, {});

const ok = async () => response(200);
const fail = (error: () => unknown) => async (): Promise<AxiosResponse> => {
  throw error();
};

describe('UpstreamCircuitBreakers', () => {
  let clock: number;

  beforeEach(() => {
    // cockatiel reads Date.now() to decide when an open circuit half-opens.
    clock = Date.parse('2026-11-02T10:00:00Z');
    jest.spyOn(Date, 'now').mockImplementation(() => clock);
  });
  afterEach(() => {
    jest.restoreAllMocks();
  });

  async function failTimes(breakers: UpstreamCircuitBreakers, upstream: string, n: number, error: () => unknown = refused): Promise<void> {
    for (let i = 0; i < n; i++) {
      await expect(breakers.execute(upstream, fail(error))).rejects.not.toBeInstanceOf(UpstreamUnavailableError);
    }
  }

  it('passes results and the original errors through while closed', async () => {
    const breakers = new UpstreamCircuitBreakers({ ...DEFAULT_CIRCUIT_BREAKER_OPTIONS, consecutiveFailures: 3 });
    await expect(breakers.execute(INVENTORY, ok)).resolves.toMatchObject({ status: 200 });
    const error = refused();
    await expect(breakers.execute(INVENTORY, async () => Promise.reject(error))).rejects.toBe(error);
    expect(breakers.state(INVENTORY)).toBe('closed');
  });

  it('opens after N consecutive failures (network errors, timeouts, 5xx) and then fails fast without calling', async () => {
    const breakers = new UpstreamCircuitBreakers({ ...DEFAULT_CIRCUIT_BREAKER_OPTIONS, consecutiveFailures: 4, halfOpenAfterMs: 1000 });
    await failTimes(breakers, INVENTORY, 1, refused);
    await failTimes(breakers, INVENTORY, 1, timedOut);
    await failTimes(breakers, INVENTORY, 1, () => httpError(500));
    expect(breakers.state(INVENTORY)).toBe('closed');
    await failTimes(breakers, INVENTORY, 1, () => httpError(503));
    expect(breakers.state(INVENTORY)).toBe('open');

    const call = jest.fn(ok);
    const error = await breakers.execute(INVENTORY, call).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamUnavailableError);
    expect(error).toMatchObject({ name: 'UpstreamUnavailableError', upstream: INVENTORY, reason: 'circuit_open' });
    expect((error as Error).cause).toMatchObject({ response: { status: 503 } });
    expect(call).not.toHaveBeenCalled();

    // Still open just before halfOpenAfterMs.
    clock += 999;
    await expect(breakers.execute(INVENTORY, call)).rejects.toBeInstanceOf(UpstreamUnavailableError);
    expect(call).not.toHaveBeenCalled();
  });

  it('a resolved 5xx (caller-supplied validateStatus) counts as a failure and is still returned', async () => {
    const breakers = new UpstreamCircuitBreakers({ ...DEFAULT_CIRCUIT_BREAKER_OPTIONS, consecutiveFailures: 2 });
    await expect(breakers.execute(INVENTORY, async () => response(502))).resolves.toMatchObject({ status: 502 });
    await expect(breakers.execute(INVENTORY, async () => response(500))).resolves.toMatchObject({ status: 500 });
    expect(breakers.state(INVENTORY)).toBe('open');
  });

  it('4xx answers are not failures and reset the count', async () => {
    const breakers = new UpstreamCircuitBreakers({ ...DEFAULT_CIRCUIT_BREAKER_OPTIONS, consecutiveFailures: 3 });
    for (const status of [400, 401, 403, 404, 409, 422, 429]) {
      const error = httpError(status);
      await expect(breakers.execute(INVENTORY, async () => Promise.reject(error))).rejects.toBe(error);
    }
    expect(breakers.state(INVENTORY)).toBe('closed');
    await failTimes(breakers, INVENTORY, 2);
    await expect(
      breakers.execute(
        INVENTORY,
        fail(() => httpError(404)),
      ),
    ).rejects.toMatchObject({ response: { status: 404 } });
    await failTimes(breakers, INVENTORY, 2);
    expect(breakers.state(INVENTORY)).toBe('closed');
    await failTimes(breakers, INVENTORY, 1);
    expect(breakers.state(INVENTORY)).toBe('open');
  });

  it('cancelled calls neither count as failures nor reset the count', async () => {
    const breakers = new UpstreamCircuitBreakers({ ...DEFAULT_CIRCUIT_BREAKER_OPTIONS, consecutiveFailures: 3 });
    await failTimes(breakers, INVENTORY, 2);
    const cancelled = new CanceledError('cancelled');
    await expect(breakers.execute(INVENTORY, async () => Promise.reject(cancelled))).rejects.toBe(cancelled);
    expect(breakers.state(INVENTORY)).toBe('closed');
    await failTimes(breakers, INVENTORY, 1);
    expect(breakers.state(INVENTORY)).toBe('open');
  });

  it('half-opens after halfOpenAfterMs: a successful trial call closes the circuit', async () => {
    const states: Array<[string, UpstreamCircuitState]> = [];
    const breakers = new UpstreamCircuitBreakers(
      { ...DEFAULT_CIRCUIT_BREAKER_OPTIONS, consecutiveFailures: 2, halfOpenAfterMs: 1000 },
      { onStateChange: (u, s) => states.push([u, s]) },
    );
    await failTimes(breakers, INVENTORY, 2);
    expect(breakers.state(INVENTORY)).toBe('open');

    clock += 1000;
    const trial = jest.fn(ok);
    await expect(breakers.execute(INVENTORY, trial)).resolves.toMatchObject({ status: 200 });
    expect(trial).toHaveBeenCalledTimes(1);
    expect(breakers.state(INVENTORY)).toBe('closed');
    expect(states).toEqual([
      [INVENTORY, 'open'],
      [INVENTORY, 'half-open'],
      [INVENTORY, 'closed'],
    ]);

    // Closed again: the count starts over, one failure does not reopen it.
    await failTimes(breakers, INVENTORY, 1);
    expect(breakers.state(INVENTORY)).toBe('closed');
  });

  it('a 4xx answer to the trial call also closes the circuit (the upstream is up)', async () => {
    const breakers = new UpstreamCircuitBreakers({ ...DEFAULT_CIRCUIT_BREAKER_OPTIONS, consecutiveFailures: 1, halfOpenAfterMs: 1000 });
    await failTimes(breakers, INVENTORY, 1);
    clock += 1000;
    await expect(
      breakers.execute(
        INVENTORY,
        fail(() => httpError(409)),
      ),
    ).rejects.toMatchObject({ response: { status: 409 } });
    expect(breakers.state(INVENTORY)).toBe('closed');
  });

  it('a failed trial call opens the circuit again for another halfOpenAfterMs', async () => {
    const breakers = new UpstreamCircuitBreakers({ ...DEFAULT_CIRCUIT_BREAKER_OPTIONS, consecutiveFailures: 2, halfOpenAfterMs: 1000 });
    await failTimes(breakers, INVENTORY, 2);
    clock += 1000;
    await failTimes(breakers, INVENTORY, 1);
    expect(breakers.state(INVENTORY)).toBe('open');
    clock += 999;
    await expect(breakers.execute(INVENTORY, ok)).rejects.toBeInstanceOf(UpstreamUnavailableError);
    clock += 1;
    await expect(breakers.execute(INVENTORY, ok)).resolves.toMatchObject({ status: 200 });
    expect(breakers.state(INVENTORY)).toBe('closed');
  });

  it('while the trial call is in flight, concurrent calls wait for its verdict instead of piling onto the upstream', async () => {
    const breakers = new UpstreamCircuitBreakers({ ...DEFAULT_CIRCUIT_BREAKER_OPTIONS, consecutiveFailures: 1, halfOpenAfterMs: 1000 });
    await failTimes(breakers, INVENTORY, 1);
    clock += 1000;
    let release!: () => void;
    const trial = breakers.execute(INVENTORY, () => new Promise<AxiosResponse>((resolve) => (release = () => resolve(response(200)))));
    const waiting = jest.fn(ok);
    const second = breakers.execute(INVENTORY, waiting);
    await new Promise((resolve) => setImmediate(resolve));
    expect(breakers.state(INVENTORY)).toBe('half-open');
    expect(waiting).not.toHaveBeenCalled();
    release();
    await expect(trial).resolves.toMatchObject({ status: 200 });
    await expect(second).resolves.toMatchObject({ status: 200 });
    expect(waiting).toHaveBeenCalledTimes(1);
  });

  it('keeps one breaker per origin: an open circuit for one upstream does not affect another', async () => {
    const breakers = new UpstreamCircuitBreakers({ ...DEFAULT_CIRCUIT_BREAKER_OPTIONS, consecutiveFailures: 2, halfOpenAfterMs: 1000 });
    await failTimes(breakers, INVENTORY, 2);
    expect(breakers.state(INVENTORY)).toBe('open');
    expect(breakers.state(PAYMENTS)).toBe('closed');
    const call = jest.fn(ok);
    await expect(breakers.execute(PAYMENTS, call)).resolves.toMatchObject({ status: 200 });
    expect(call).toHaveBeenCalledTimes(1);
    // Failures of the other upstream do not add up.
    await failTimes(breakers, PAYMENTS, 1);
    expect(breakers.state(PAYMENTS)).toBe('closed');
    await expect(breakers.execute(INVENTORY, call)).rejects.toMatchObject({ upstream: INVENTORY });
  });

  describe('upstreamOrigin', () => {
    it.each([
      ['http://inventory:8082/api/inventory?x=1', 'http://inventory:8082'],
      ['http://inventory/api', 'http://inventory:80'],
      ['http://inventory:80/api', 'http://inventory:80'],
      ['https://inventory.internal/api', 'https://inventory.internal:443'],
      ['HTTP://Inventory:8082/', 'http://inventory:8082'],
      ['http://[::1]:8082/x', 'http://[::1]:8082'],
      ['http://user:pw@inventory:8082/x', 'http://inventory:8082'],
    ])('%s -> %s', (url, origin) => {
      expect(upstreamOrigin(url)).toBe(origin);
    });
  });
});
