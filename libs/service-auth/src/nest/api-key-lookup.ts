import type { ApiKeyLookup } from '../protocol/request-verifier.js';
import { nodeRequest, type ServiceAuthRequest } from './service-auth-request.js';

/**
 * The API key lookup of the early check (ApiKeyPrecheckRegistrar), handed to the guard with the request
 * so that the key is hashed once. A symbol-keyed, non-enumerable property of Node's request: the lookup
 * holds the caller's keys, and nothing that prints or serialises the request shows it.
 */
const API_KEY_LOOKUP = Symbol('nest-service-auth:api-key-lookup');

export function rememberApiKeyLookup(req: ServiceAuthRequest, lookup: ApiKeyLookup): void {
  Object.defineProperty(nodeRequest(req), API_KEY_LOOKUP, { value: lookup, configurable: true, enumerable: false, writable: false });
}

export function apiKeyLookupOf(req: ServiceAuthRequest): ApiKeyLookup | undefined {
  return (nodeRequest(req) as { [API_KEY_LOOKUP]?: ApiKeyLookup })[API_KEY_LOOKUP];
}
