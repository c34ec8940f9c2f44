import type { ClientOptions } from '@nestjs/microservices';
import type { KeyMaterial } from '../../keys/key-material.js';
import type { KeyProvider } from '../../keys/key-provider.interface.js';

/** One signing client: the token it is injected by, the upstream it signs for, and its transport. */
export type SignedClientDefinition = ClientOptions & {
  /** The injection token, as ClientsModule's `name`: `@Inject('INVENTORY') client: SignedClientProxy`. */
  name: string | symbol;
  /** The callee's service id, a configured upstream: the audience of every message and whose keys sign. */
  upstream: string;
};

/**
 * `SignedClientsModule.register(options)`: who this service is, where its upstreams' keys come from
 * (as SignedHttpModule: `keys`, `keyProvider`, or the environment), and its clients, each as
 * ClientsModule.register takes them plus the upstream it calls.
 */
export interface SignedClientsModuleOptions {
  /** This service's id (e.g. `order-service`): the caller id its upstreams know it under. */
  serviceId: string;
  keys?: KeyMaterial;
  keyProvider?: KeyProvider;
  /**
   * Encrypt message payloads (JWE, A256GCM under the pair's encryption key, as SignedHttpModule's
   * `encrypt`) and require sealed answers: `true` for every upstream, or the upstream ids to encrypt for.
   */
  encrypt?: boolean | string[];
  clients: SignedClientDefinition[];
}
