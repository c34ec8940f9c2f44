import type { AxiosResponse } from 'axios';
import { redactedConfig, type RedactedRequest } from './redacted-error.js';

/**
 * A successful answer, fit to be logged whole: axios hands back the request's config (with the API key,
 * the signature and its nonce in the headers) as `response.config`, and Node's ClientRequest (whose
 * header block holds the same) as `response.request`. An application that logs a response, as many
 * log the answers of their HTTP calls, would write credentials that let the call be sent again within
 * the replay window. Both become what redactedError leaves of a failed call's; status, headers and
 * data are the upstream's, unchanged. Changed in place and returned.
 */
export function redactedResponse<T>(response: AxiosResponse<T>): AxiosResponse<T> {
  const config = redactedConfig(response.config);
  const request: RedactedRequest = { method: config.method?.toUpperCase(), url: config.url };
  response.config = config;
  response.request = request;
  return response;
}
