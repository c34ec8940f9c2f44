import { describe, expect, it, jest } from '@jest/globals';
import axios, { AxiosError, AxiosHeaders, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';
import { OutgoingRequestRefusedError } from './outgoing-request-refused.error.js';
import { checkCallConfig, guardedAdapter, isRedirect, refusedAnswer, refuseRedirect, transportConfig } from './outgoing-transport.js';
import { UpstreamAnswerRefusedError } from './upstream-answer-refused.error.js';
import { UpstreamCircuitBreakers } from './upstream-circuit-breakers.js';
import { DEFAULT_CIRCUIT_BREAKER_OPTIONS } from './resolved-client-options.js';

const limits = { maxResponseBytes: 1000, maxRequestBytes: 500 };
const UPSTREAM = 'http://inventory:8082';
const config = { headers: new AxiosHeaders() } as InternalAxiosRequestConfig;

function response(status: number, headers: Record<string, string> = {}): AxiosResponse {
  return { status, statusText: '', headers, config, data: '' };
}

function refusal(run: () => unknown): OutgoingRequestRefusedError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(OutgoingRequestRefusedError);
    return error as OutgoingRequestRefusedError;
  }
  throw new Error('not refused');
}

describe('isRedirect', () => {
  it('every 3xx but 304', () => {
    expect([300, 301, 302, 303, 307, 308, 399].every(isRedirect)).toBe(true);
    expect([200, 204, 304, 400, 502].some(isRedirect)).toBe(false);
  });
});

describe('checkCallConfig', () => {
  it('accepts what cannot weaken the transport', () => {
    expect(() => checkCallConfig({}, limits)).not.toThrow();
    expect(() =>
      checkCallConfig(
        { maxRedirects: 0, maxContentLength: 0, maxBodyLength: 500, timeout: 10, decompress: false, validateStatus: () => true },
        limits,
      ),
    ).not.toThrow();
  });

  it.each([
    ['maxRedirects', { maxRedirects: 1 }],
    ['beforeRedirect', { beforeRedirect: () => undefined }],
    ['transport', { transport: {} }],
    ['adapter', { adapter: 'http' as const }],
    ['maxContentLength', { maxContentLength: 1001 }],
    ['maxContentLength', { maxContentLength: -1 }],
    ['maxContentLength', { maxContentLength: Infinity }],
    ['maxBodyLength', { maxBodyLength: 501 }],
  ])('refuses %s, naming it', (option, call) => {
    const error = refusal(() => checkCallConfig(call, limits));
    expect(error).toMatchObject({ reason: 'request_config_unsafe', option });
    expect(error.message).toContain(option);
  });

  it('names the client option to raise instead of a limit', () => {
    expect(refusal(() => checkCallConfig({ maxContentLength: 2000 }, limits)).message).toContain('maxResponseBytes (1000)');
    expect(refusal(() => checkCallConfig({ maxBodyLength: 2000 }, limits)).message).toContain('maxRequestBytes (500)');
  });
});

describe('transportConfig', () => {
  const adapter = guardedAdapter(limits);
  it('forces no redirects, the limits and no environment proxy; keeps a lower limit and an explicit proxy', () => {
    expect(transportConfig({}, limits, adapter)).toEqual({
      adapter,
      maxRedirects: 0,
      maxContentLength: 1000,
      maxBodyLength: 500,
      proxy: false,
    });
    const proxy = { host: 'egress', port: 3128 };
    expect(transportConfig({ maxContentLength: 10, proxy }, limits, adapter)).toMatchObject({ maxContentLength: 10, proxy });
  });
});

describe('guardedAdapter', () => {
  const safe = { ...config, maxRedirects: 0, maxContentLength: 1000, maxBodyLength: 500, proxy: false as const };

  it.each([
    ['maxRedirects', { maxRedirects: 5 }],
    ['maxRedirects', { maxRedirects: undefined }],
    ['transport', { transport: {} }],
    ['maxContentLength', { maxContentLength: -1 }],
    ['maxBodyLength', { maxBodyLength: 10_000 }],
    ['proxy', { proxy: undefined }],
  ])('refuses a final config whose %s was changed after the call was built, without dispatching', async (option, change) => {
    const instanceAdapter = jest.fn(
      async (_config: InternalAxiosRequestConfig) => response(200) as AxiosResponse & { config: InternalAxiosRequestConfig },
    );
    const adapter = guardedAdapter(limits, () => instanceAdapter);
    await expect(adapter({ ...safe, ...change } as InternalAxiosRequestConfig)).rejects.toMatchObject({
      reason: 'request_config_unsafe',
      option,
    });
    expect(instanceAdapter).not.toHaveBeenCalled();
  });

  it("dispatches to the instance's adapter function (a test double) once the config is safe", async () => {
    const instanceAdapter = jest.fn(async () => response(200));
    await expect(guardedAdapter(limits, () => instanceAdapter)(safe as InternalAxiosRequestConfig)).resolves.toMatchObject({ status: 200 });
    expect(instanceAdapter).toHaveBeenCalledTimes(1);
  });

  it('a request interceptor that lifts the limit after the call was built is refused before anything is sent', async () => {
    const instanceAdapter = jest.fn(async () => response(200));
    const instance = axios.create({ adapter: instanceAdapter });
    instance.interceptors.request.use((c) => ({ ...c, maxContentLength: -1 }) as typeof c);
    const adapter = guardedAdapter(limits, () => instance.defaults.adapter);
    await expect(instance.request({ url: `${UPSTREAM}/x`, ...transportConfig({}, limits, adapter) })).rejects.toMatchObject({
      option: 'maxContentLength',
    });
    expect(instanceAdapter).not.toHaveBeenCalled();
  });
});

describe('refusedAnswer / refuseRedirect', () => {
  it('a redirect axios rejected becomes upstream_redirect, with where it pointed and nothing of the request', () => {
    const error = new AxiosError(
      'Request failed with status code 307',
      undefined,
      config,
      {},
      response(307, { location: 'http://elsewhere/x' }),
    );
    const refused = refusedAnswer(error, UPSTREAM);
    expect(refused).toBeInstanceOf(UpstreamAnswerRefusedError);
    expect(refused).toMatchObject({ reason: 'upstream_redirect', upstream: UPSTREAM, status: 307, location: 'http://elsewhere/x' });
    expect(refused?.cause).toBeUndefined();
    expect(Object.keys(refused!)).not.toContain('config');
  });

  it("axios' maxContentLength error becomes upstream_response_too_large with the limit", () => {
    const error = new AxiosError('maxContentLength size of 1000 exceeded', AxiosError.ERR_BAD_RESPONSE, config);
    expect(refusedAnswer(error, UPSTREAM)).toMatchObject({ reason: 'upstream_response_too_large', limitBytes: 1000 });
  });

  it('anything else is left as it is', () => {
    expect(
      refusedAnswer(new AxiosError('Request failed with status code 404', 'ERR_BAD_REQUEST', config, {}, response(404)), UPSTREAM),
    ).toBeUndefined();
    expect(refusedAnswer(new AxiosError('connect ECONNREFUSED', 'ECONNREFUSED', config), UPSTREAM)).toBeUndefined();
    expect(refusedAnswer(new Error('maxContentLength size of 1 exceeded'), UPSTREAM)).toBeUndefined();
  });

  it('a redirect that a validateStatus let through is refused all the same; a 304 is not a redirect', () => {
    expect(() => refuseRedirect(response(302, { location: '/elsewhere' }), UPSTREAM)).toThrow(
      expect.objectContaining({ reason: 'upstream_redirect', location: '/elsewhere' }),
    );
    expect(() => refuseRedirect(response(304), UPSTREAM)).not.toThrow();
  });

  it('a refused answer does not open the circuit: the upstream answered', async () => {
    const breakers = new UpstreamCircuitBreakers({ ...DEFAULT_CIRCUIT_BREAKER_OPTIONS, consecutiveFailures: 2 });
    const refused = new UpstreamAnswerRefusedError(UPSTREAM, 'upstream_redirect', { status: 307 });
    for (let i = 0; i < 5; i++) await expect(breakers.execute(UPSTREAM, async () => Promise.reject(refused))).rejects.toBe(refused);
    expect(breakers.state(UPSTREAM)).toBe('closed');
  });
});
