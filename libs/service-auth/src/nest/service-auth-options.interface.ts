import type { KeyMaterial } from '../keys/key-material.js';
import type { KeyProvider } from '../keys/key-provider.interface.js';
import type { NonceStore } from '../replay/nonce-store.interface.js';
import type { ReplayWindowOptions } from '../replay/replay-window.js';

export type EncryptionPolicy = 'required' | 'optional' | 'off';

export interface ReplayOptions extends ReplayWindowOptions {
  /** Where nonces are remembered. Default: in this process (MemoryNonceStore). Use RedisNonceStore for replicas. */
  store?: NonceStore;
}

export interface SignedHttpClientOptions {
  /** Per-attempt timeout for outgoing calls, in ms. Default 5000. */
  timeoutMs?: number;
  /**
   * Which upstreams get encrypted bodies (JWE, dir + A256GCM) and are asked for encrypted answers:
   * `true` for all, or a list of URL prefixes (e.g. `['http://inventory:8082/']`). Default: none.
   */
  encrypt?: boolean | string[];
}

export interface ServiceAuthModuleOptions {
  /** This service's id, as its callees know it (e.g. `order-service`). */
  serviceId: string;
  /**
   * Keys held directly in the options. Prefer `keyProvider` (or nothing: the environment is read)
   * so that keys can be reloaded without a restart.
   */
  keys?: KeyMaterial;
  /** Supplies keys at start-up and on `ServiceAuthKeys.reload()`. Default: EnvKeyProvider over process.env. */
  keyProvider?: KeyProvider;
  replay?: ReplayOptions;
  /** Largest request body accepted, in bytes. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Components every inbound signature must cover, beyond the protocol minimum. */
  requiredComponents?: string[];
  /** Default policy for encrypted request bodies on routes without @EncryptedBody(). Default 'optional'. */
  encryption?: EncryptionPolicy;
  client?: SignedHttpClientOptions;
}
