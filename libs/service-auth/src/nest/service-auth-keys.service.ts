import { Logger } from '@nestjs/common';
import { EnvKeyProvider } from '../keys/env-key-provider.js';
import { KeyConfigurationError } from '../errors/key-configuration.error.js';
import type { KeyProvider } from '../keys/key-provider.interface.js';
import { KeyRing } from '../keys/key-ring.js';
import { loadedKeyIds } from '../keys/loaded-key-ids.js';
import type { ServiceAuthModuleOptions } from './options/service-auth-options.interface.js';
import { LogLine } from './logging/log-line.js';

/** The module a ServiceAuthKeys serves, which decides what its keys must contain. */
export type KeysUser = 'ServiceAuthModule' | 'SignedHttpModule' | 'SignedClientsModule';

/**
 * Holds the current key ring and swaps it on reload. A reload is validated in full before it
 * replaces anything, so a bad vault entry leaves the running keys in place (and reload rejects).
 */
export class ServiceAuthKeys {
  private readonly logger = new Logger('ServiceAuth');
  private current: KeyRing;
  /** Fixed at start-up: a service that accepts callers never silently stops checking them. */
  readonly inbound: boolean;

  private constructor(
    private readonly serviceId: string,
    private readonly provider: KeyProvider,
    ring: KeyRing,
    private readonly user: KeysUser,
  ) {
    this.current = ring;
    this.inbound = ring.callerIds.length > 0;
  }

  /**
   * Loads the keys from `keyProvider`, else from `keys`, else from the environment (EnvKeyProvider).
   * `user` is the module the keys are for: ServiceAuthModule needs callers or upstreams,
   * SignedHttpModule (the signing client, which holds keys of its own) needs upstreams.
   */
  static async create(
    options: Pick<ServiceAuthModuleOptions, 'serviceId' | 'keys' | 'keyProvider'>,
    user: KeysUser = 'ServiceAuthModule',
  ): Promise<ServiceAuthKeys> {
    const { keys } = options;
    const provider: KeyProvider = options.keyProvider ?? (keys ? { load: () => keys } : new EnvKeyProvider());
    const ring = KeyRing.from(await provider.load(), options.serviceId);
    if (user !== 'ServiceAuthModule' && ring.upstreamIds.length === 0) {
      throw new KeyConfigurationError(
        `${user} has no upstreams: configure them (e.g. SERVICE_AUTH_UPSTREAMS, SERVICE_AUTH_UPSTREAM_<ID>_URL and ` +
          'SERVICE_AUTH_UPSTREAM_<ID>_KEYS, or keys.upstreams)',
      );
    }
    if (ring.callerIds.length === 0 && ring.upstreamIds.length === 0) {
      throw new KeyConfigurationError(
        'ServiceAuthModule has no keys: configure callers (inbound, e.g. SERVICE_AUTH_CALLERS and SERVICE_AUTH_CALLER_<ID>_KEYS) ' +
          'and/or upstreams (outbound, e.g. SERVICE_AUTH_UPSTREAMS, SERVICE_AUTH_UPSTREAM_<ID>_URL and SERVICE_AUTH_UPSTREAM_<ID>_KEYS)',
      );
    }
    const loaded = new ServiceAuthKeys(options.serviceId, provider, ring, user);
    // Once per module at start-up: which key ids this process accepts and signs with, so that a
    // refusal naming a key id can be matched to the configuration without reading any secret.
    loaded.logger.log(new LogLine({ event: 'service_auth_keys_loaded', module: user, ...loadedKeyIds(ring) }));
    return loaded;
  }

  get ring(): KeyRing {
    return this.current;
  }

  /**
   * Reads the key provider again and switches to the new keys atomically. Rejects, keeping the running
   * keys, when the new keys are not valid, and when the key source cannot change in a running process
   * (the default, `process.env`): use FileKeyProvider, or a KeyProvider of your own, to rotate without
   * a restart.
   */
  async reload(): Promise<void> {
    if (this.provider.reloadable === false) {
      throw new KeyConfigurationError(
        `Reload refused: ${this.user} reads its keys from the process environment, which nothing outside a running process can change, ` +
          'so a reload would find the same keys. Restart the process with the new environment, or give a key source that can change ' +
          '(keyProvider: new FileKeyProvider({ path }), or new EnvKeyProvider({ get }) over a ConfigService whose values are set again)',
      );
    }
    const next = KeyRing.from(await this.provider.load(), this.serviceId);
    if (this.inbound && next.callerIds.length === 0) {
      throw new KeyConfigurationError(
        'Reload refused: the new key material has no callers, which would leave every route of this service refusing all requests',
      );
    }
    if (this.user !== 'ServiceAuthModule' && next.upstreamIds.length === 0) {
      throw new KeyConfigurationError('Reload refused: the new key material has no upstreams, which would leave every signed call refused');
    }
    this.current = next;
    this.logger.log(new LogLine({ event: 'service_auth_keys_reloaded', module: this.user, ...loadedKeyIds(next) }));
  }
}
