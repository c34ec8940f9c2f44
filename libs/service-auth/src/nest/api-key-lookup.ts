import type { KeyRing, ResolvedKey } from '../keys/key-ring.js';
import type { ApiKeyLookup } from '../protocol/request-verifier.js';
import { nodeRequest, type ServiceAuthRequest } from './service-auth-request.js';

/**
 * The API key lookup of the early check (ApiKeyPrecheckRegistrar), handed to the guard with the request
 * so that the key is hashed once. It goes on Node's request under a symbol, by plain assignment (a
 * cached shape transition: far cheaper per request than Object.defineProperty or a WeakMap entry,
 * which both take a runtime call), and holds the caller's keys in private fields, which nothing that
 * prints or serialises the request shows (util.inspect prints `RememberedApiKeyLookup {}`, JSON skips
 * symbol keys).
 */
const API_KEY_LOOKUP = Symbol('nest-service-auth:api-key-lookup');

class RememberedApiKeyLookup implements ApiKeyLookup {
  readonly #ring: KeyRing;
  readonly #apiKey: string;
  readonly #holder: ResolvedKey | undefined;

  constructor(ring: KeyRing, apiKey: string, holder: ResolvedKey | undefined) {
    this.#ring = ring;
    this.#apiKey = apiKey;
    this.#holder = holder;
  }

  get ring(): KeyRing {
    return this.#ring;
  }

  get apiKey(): string {
    return this.#apiKey;
  }

  get holder(): ResolvedKey | undefined {
    return this.#holder;
  }
}

type WithLookup = { [API_KEY_LOOKUP]?: ApiKeyLookup };

export function rememberApiKeyLookup(req: ServiceAuthRequest, ring: KeyRing, apiKey: string, holder: ResolvedKey | undefined): void {
  (nodeRequest(req) as WithLookup)[API_KEY_LOOKUP] = new RememberedApiKeyLookup(ring, apiKey, holder);
}

export function apiKeyLookupOf(req: ServiceAuthRequest): ApiKeyLookup | undefined {
  return (nodeRequest(req) as WithLookup)[API_KEY_LOOKUP];
}
