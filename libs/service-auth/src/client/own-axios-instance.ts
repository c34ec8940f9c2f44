import axios, { AxiosError, type AxiosInstance, type AxiosResponseTransformer, type CreateAxiosDefaults } from 'axios';

/** The transport settings of the client that an instance starts from (every call forces them again). */
export interface OwnInstanceSettings {
  readonly maxResponseBytes: number;
  readonly maxRequestBytes: number;
  readonly timeoutMs: number;
}

/**
 * An axios instance that owes nothing to the process-global `axios.defaults`.
 *
 * axios.create() merges axios.defaults into every instance it makes, and whatever an application (or
 * a library it loaded: an APM agent, a mocking tool) set there would ride along on signed calls: an
 * adapter function would receive every call with its API key and signature, `headers.common`
 * (an app-wide Authorization) and `auth` would be sent outside the signature, `socketPath`, agents or
 * `baseURL` would send the call somewhere else, a response transformer would be handed the config with
 * the credentials. So the instance's defaults are replaced, after creation, by a complete set of the
 * client's own: axios' documented behaviour for everything, and nothing read from the global object.
 * Interceptors are per instance in axios and never inherited.
 */
export function ownAxiosInstance(settings: OwnInstanceSettings): AxiosInstance {
  const defaults = {
    adapter: 'http',
    transitional: { silentJSONParsing: true, forcedJSONParsing: true, clarifyTimeoutError: false },
    transformRequest: [(data: unknown) => data],
    transformResponse: [parsedJsonAnswer],
    headers: {
      common: { Accept: 'application/json, text/plain, */*' },
      delete: {},
      get: {},
      head: {},
      post: {},
      put: {},
      patch: {},
      options: {},
      purge: {},
      link: {},
      unlink: {},
    },
    validateStatus: (status: number) => status >= 200 && status < 300,
    maxRedirects: 0,
    proxy: false,
    maxContentLength: settings.maxResponseBytes,
    maxBodyLength: settings.maxRequestBytes,
    timeout: settings.timeoutMs,
  } satisfies CreateAxiosDefaults;
  const instance = axios.create(defaults);
  // Emptied and refilled in place: the instance's request() is bound to an object holding this same
  // defaults object, so assigning a new one to `instance.defaults` would change nothing it sends.
  const own = instance.defaults as unknown as Record<string, unknown>;
  for (const key of Object.keys(own)) delete own[key];
  Object.assign(own, defaults);
  return instance;
}

/**
 * axios' default answer parsing, written out so that no global transformer takes part: a string answer
 * is parsed as JSON when it is JSON (and kept as it came otherwise), unless another `responseType` was
 * asked for; with `responseType: 'json'`, an answer that is not JSON is an error.
 */
const parsedJsonAnswer: AxiosResponseTransformer = function (this, data: unknown): unknown {
  const responseType = this.responseType;
  if (typeof data !== 'string' || data === '' || (responseType !== undefined && responseType !== 'json')) return data;
  try {
    return JSON.parse(data) as unknown;
  } catch {
    if (responseType !== 'json') return data;
    throw new AxiosError('the answer is not JSON', AxiosError.ERR_BAD_RESPONSE, this);
  }
};
