import { Module, type OnApplicationShutdown, Inject, Logger, type CanActivate } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, DiscoveryModule } from '@nestjs/core';
import { RequestVerifier } from '../protocol/request-verifier.js';
import type { NonceStore } from '../replay/nonce-store.interface.js';
import { BodyParserErrorFilter } from './body-parser-error.filter.js';
import { EncryptedExchangeInterceptor } from './encrypted-exchange.interceptor.js';
import { FastifyRawBodyRegistrar } from './fastify-raw-body.registrar.js';
import { SealedAnswerRegistrar } from './sealed-answer.registrar.js';
import { ApiKeyPrecheckRegistrar } from './api-key-precheck.registrar.js';
import { createNonceStore } from './nonce-store.factory.js';
import { NONCE_STORE, REQUEST_VERIFIER, VERIFICATION_OBSERVER } from './service-auth.constants.js';
import { createVerificationObserver } from '../metrics/verification-metrics-option.js';
import { ServiceAuthGuard } from './service-auth.guard.js';
import { ServiceAuthKeys } from './service-auth-keys.service.js';
import { SERVICE_AUTH_OPTIONS, ServiceAuthConfigurableModule } from './service-auth.module-definition.js';
import type { ServiceAuthModuleOptions } from './service-auth-options.interface.js';
import { validateOptions } from './validate-options.js';
import { KeyConfigurationError } from '../keys/key-configuration.error.js';

/** What APP_GUARD resolves to when the application installs ServiceAuthGuard itself, or not at all. */
const NOT_INSTALLED: CanActivate = { canActivate: () => true };
import { TrustedCallerValidator } from './trusted-caller.validator.js';

/**
 * `ServiceAuthModule.forRoot(options)` / `forRootAsync({ useFactory, inject })`.
 * Options and keys are validated once, while the module is created: a bad configuration stops the
 * application from starting, with a message that names the setting.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    {
      provide: ServiceAuthKeys,
      inject: [SERVICE_AUTH_OPTIONS],
      useFactory: async (options: ServiceAuthModuleOptions) => {
        validateOptions(options);
        const keys = await ServiceAuthKeys.create(options);
        const guard = options.guard ?? 'global';
        if (guard === 'none' && keys.inbound) {
          throw new KeyConfigurationError(
            `ServiceAuthModule: callers are configured (${keys.ring.callerIds.join(', ')}), but guard is 'none', so nothing would check them. ` +
              "Remove the callers, or use guard: 'global' (or 'manual' and register ServiceAuthGuard yourself)",
          );
        }
        const encrypt = options.client?.encrypt;
        const unknown = Array.isArray(encrypt) ? encrypt.filter((id) => !keys.ring.upstream(id)) : [];
        if (unknown.length > 0) {
          throw new KeyConfigurationError(
            `ServiceAuthModule: client.encrypt names ${unknown.map((id) => `"${id}"`).join(', ')}, which ${unknown.length > 1 ? 'are not configured upstreams' : 'is not a configured upstream'}` +
              ` (configured: ${keys.ring.upstreamIds.join(', ') || 'none'})`,
          );
        }
        if (guard === 'global' && !keys.inbound) {
          new Logger('ServiceAuth').warn({
            event: 'service_auth_no_callers',
            message:
              'No callers are configured (SERVICE_AUTH_CALLERS), so every route without @PublicRoute() refuses every request. ' +
              "If this service accepts no signed callers, set guard: 'none'.",
          });
        }
        return keys;
      },
    },
    {
      provide: NONCE_STORE,
      // After ServiceAuthKeys: options and keys are validated before a Redis connection is opened.
      inject: [SERVICE_AUTH_OPTIONS, ServiceAuthKeys],
      useFactory: (options: ServiceAuthModuleOptions): NonceStore => createNonceStore(options),
    },
    {
      provide: REQUEST_VERIFIER,
      inject: [ServiceAuthKeys, NONCE_STORE, SERVICE_AUTH_OPTIONS],
      useFactory: (keys: ServiceAuthKeys, nonces: NonceStore, options: ServiceAuthModuleOptions) =>
        new RequestVerifier(() => keys.ring, nonces, {
          ...options.replay,
          audience: options.serviceId,
          requiredComponents: options.requiredComponents,
        }),
    },
    {
      provide: VERIFICATION_OBSERVER,
      // After ServiceAuthKeys: the options are validated first.
      inject: [SERVICE_AUTH_OPTIONS, ServiceAuthKeys],
      useFactory: (options: ServiceAuthModuleOptions) => createVerificationObserver(options.metrics),
    },
    ServiceAuthGuard,
    {
      provide: APP_GUARD,
      inject: [SERVICE_AUTH_OPTIONS, ServiceAuthGuard],
      useFactory: (options: ServiceAuthModuleOptions, guard: ServiceAuthGuard): CanActivate =>
        (options.guard ?? 'global') === 'global' ? guard : NOT_INSTALLED,
    },
    { provide: APP_FILTER, useClass: BodyParserErrorFilter },
    EncryptedExchangeInterceptor,
    {
      // With the guard installed globally, the guard runs the encrypted exchange and nothing is installed
      // here (Nest skips a global enhancer whose factory gives null): no exchange goes through Nest's
      // interceptor machinery for nothing.
      provide: APP_INTERCEPTOR,
      inject: [SERVICE_AUTH_OPTIONS, EncryptedExchangeInterceptor],
      useFactory: (options: ServiceAuthModuleOptions, interceptor: EncryptedExchangeInterceptor): EncryptedExchangeInterceptor | null =>
        (options.guard ?? 'global') === 'global' ? null : interceptor,
    },
    SealedAnswerRegistrar,
    ApiKeyPrecheckRegistrar,
    FastifyRawBodyRegistrar,
    TrustedCallerValidator,
  ],
  // SERVICE_AUTH_OPTIONS and ServiceAuthKeys: for SignedHttpModule (nest-service-auth/client), which signs with these keys.
  exports: [ServiceAuthKeys, ServiceAuthGuard, NONCE_STORE, SERVICE_AUTH_OPTIONS, VERIFICATION_OBSERVER],
})
export class ServiceAuthModule extends ServiceAuthConfigurableModule implements OnApplicationShutdown {
  constructor(@Inject(NONCE_STORE) private readonly nonces: NonceStore) {
    super();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.nonces.close?.();
  }
}
