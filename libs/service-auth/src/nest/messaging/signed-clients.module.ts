import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { ClientProxyFactory } from '@nestjs/microservices';
import { appliesTo } from '../../client/resolved-client-options.js';
import { KeyConfigurationError } from '../../errors/key-configuration.error.js';
import { ServiceAuthKeys } from '../service-auth-keys.service.js';
import { SignedClientProxy } from './signed-client-proxy.js';
import type { SignedClientsModuleOptions } from './signed-clients-options.js';

/** The module's own keys (never ServiceAuthModule's, which a called service registers for its callers). */
const SIGNED_CLIENT_KEYS = Symbol('SIGNED_CLIENTS_KEYS');

/**
 * `SignedClientsModule.register({ serviceId, clients: [{ name, upstream, transport, options }] })`, as
 * @nestjs/microservices' ClientsModule.register: each client is a SignedClientProxy injected by its
 * `name`, whose `send()` and `emit()` are signed for its upstream over the transport configured. The
 * keys are loaded once, at start-up (a client naming an upstream that is not configured stops the
 * application), and read at each message.
 *
 * Exported by the `nest-service-auth/microservices` entry (it needs @nestjs/microservices).
 */
@Module({})
export class SignedClientsModule {
  static register(options: SignedClientsModuleOptions): DynamicModule {
    const clients: Provider[] = options.clients.map((definition) => ({
      provide: definition.name,
      inject: [SIGNED_CLIENT_KEYS],
      useFactory: (keys: ServiceAuthKeys) => {
        const { name: _name, upstream, ...transport } = definition;
        const encrypt = appliesTo(options.encrypt ?? false, upstream);
        return new SignedClientProxy(ClientProxyFactory.create(transport), keys, upstream, options.serviceId, encrypt);
      },
    }));
    return {
      module: SignedClientsModule,
      providers: [
        {
          provide: SIGNED_CLIENT_KEYS,
          useFactory: async () => {
            const keys = await ServiceAuthKeys.create(options, 'SignedClientsModule');
            const unknown = options.clients.filter((c) => !keys.ring.upstream(c.upstream)).map((c) => `"${c.upstream}"`);
            if (unknown.length > 0) {
              throw new KeyConfigurationError(
                `SignedClientsModule: clients name ${unknown.join(', ')}, not configured as upstreams (configured: ${keys.ring.upstreamIds.join(', ')})`,
              );
            }
            return keys;
          },
        },
        ...clients,
      ],
      exports: options.clients.map((c) => c.name),
    };
  }
}
