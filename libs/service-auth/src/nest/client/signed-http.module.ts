import { Module } from '@nestjs/common';
import { resolveClientOptions, type ResolvedClientOptions } from '../../client/resolved-client-options.js';
import type { SignedHttpModuleOptions } from '../../client/signed-http-options.js';
import { KeyConfigurationError } from '../../errors/key-configuration.error.js';
import { ServiceAuthKeys } from '../service-auth-keys.service.js';
import { SignedHttpService } from './signed-http.service.js';
import { SIGNED_HTTP_OPTIONS, SignedHttpConfigurableModule } from './signed-http.module-definition.js';

/** SignedHttpModule's own injection tokens: its options resolved, and its keys (never ServiceAuthModule's). */
const RESOLVED_CLIENT_OPTIONS = Symbol('SIGNED_HTTP_RESOLVED_OPTIONS');
const CLIENT_KEYS = Symbol('SIGNED_HTTP_KEYS');

/**
 * The upstream ids an option lists must be configured: otherwise the option silently does nothing for
 * them (a misspelt id in verifyAnswers would leave the upstream's answers unverified).
 */
function checkUpstreamLists(keys: ServiceAuthKeys, options: ResolvedClientOptions): void {
  for (const setting of ['encrypt', 'coverAuthority', 'verifyAnswers'] as const) {
    const value = options[setting];
    const unknown = typeof value === 'boolean' ? [] : value.filter((id) => !keys.ring.upstream(id));
    if (unknown.length > 0) {
      throw new KeyConfigurationError(
        `SignedHttpModule: ${setting} names ${unknown.map((id) => `"${id}"`).join(', ')}, which ${unknown.length > 1 ? 'are not configured upstreams' : 'is not a configured upstream'}` +
          ` (configured: ${keys.ring.upstreamIds.join(', ')})`,
      );
    }
  }
}

/**
 * `SignedHttpModule.register(options)` / `registerAsync({ imports, inject, useFactory })`, as
 * @nestjs/axios' HttpModule.register: provides SignedHttpService to the module that imports it. The
 * options hold the client settings and the key source of this service's upstreams (the environment by
 * default, read as ServiceAuthModule reads it); nothing else needs registering to call other services.
 * The keys are this module's own, loaded and reloaded (SignedHttpService.keys.reload()) apart from
 * ServiceAuthModule's, which a service that is also called registers for its callers.
 * A bad configuration stops the application from starting, with a message that names the setting.
 *
 * Exported by the `nest-service-auth/client` entry: the only part of the library that needs axios,
 * which a service that is only called never installs.
 */
@Module({
  providers: [
    {
      provide: RESOLVED_CLIENT_OPTIONS,
      inject: [SIGNED_HTTP_OPTIONS],
      useFactory: (options: SignedHttpModuleOptions) => resolveClientOptions(options),
    },
    {
      provide: CLIENT_KEYS,
      inject: [RESOLVED_CLIENT_OPTIONS],
      useFactory: async (options: ResolvedClientOptions) => {
        const keys = await ServiceAuthKeys.create(options, 'SignedHttpModule');
        checkUpstreamLists(keys, options);
        return keys;
      },
    },
    {
      provide: SignedHttpService,
      inject: [CLIENT_KEYS, RESOLVED_CLIENT_OPTIONS],
      useFactory: (keys: ServiceAuthKeys, options: ResolvedClientOptions) => new SignedHttpService(keys, options),
    },
  ],
  exports: [SignedHttpService],
})
export class SignedHttpModule extends SignedHttpConfigurableModule {}
