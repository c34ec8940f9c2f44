import { Module, type OnApplicationShutdown, Inject, Logger, type CanActivate } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, DiscoveryModule } from '@nestjs/core';
import { KeyConfigurationError } from '../errors/key-configuration.error.js';
import { createVerificationObserver } from '../metrics/verification-metrics-option.js';
import { RequestVerifier } from '../protocol/request-verifier.js';
import type { NonceStore } from '../replay/nonce-store.interface.js';
import { BodyParserErrorFilter } from './body-parser-error.filter.js';
import { EncryptedExchangeInterceptor } from './encrypted-exchange.interceptor.js';
import { FastifyRawBodyRegistrar } from './fastify-raw-body.registrar.js';
import { SealedAnswerRegistrar } from './sealed-answer.registrar.js';
import { ApiKeyPrecheckRegistrar } from './api-key-precheck.registrar.js';
import { RefusalLog } from './refusal-log.js';
import { createNonceStore } from './nonce-store.factory.js';
import { resolveOptions, type ResolvedServiceAuthOptions } from './resolved-options.js';
import { NONCE_STORE, REQUEST_VERIFIER, RESOLVED_OPTIONS, VERIFICATION_OBSERVER } from './service-auth.constants.js';
import { ServiceAuthGuard } from './service-auth.guard.js';
import { ServiceAuthKeys } from './service-auth-keys.service.js';
import { SERVICE_AUTH_OPTIONS, ServiceAuthConfigurableModule } from './service-auth.module-definition.js';
import { TrustedCallerValidator } from './trusted-caller.validator.js';

import { LogLine } from './log-line.js';

/** What APP_GUARD resolves to when the application installs ServiceAuthGuard itself, or not at all. */
const NOT_INSTALLED: CanActivate = { canActivate: () => true };

/**
 * The settings that only make sense together with the keys: refused (or warned about) once both
 * are known, so that a service never starts with a check that silently does nothing.
 */
function checkKeysAgainstOptions(keys: ServiceAuthKeys, options: ResolvedServiceAuthOptions): void {
  if (options.guard === 'none' && keys.inbound) {
    throw new KeyConfigurationError(
      `ServiceAuthModule: callers are configured (${keys.ring.callerIds.join(', ')}), but guard is 'none', so nothing would check them. ` +
        "Remove the callers, or use guard: 'global' (or 'manual' and register ServiceAuthGuard yourself)",
    );
  }
  const encrypt = options.client.encrypt;
  const unknown = typeof encrypt === 'boolean' ? [] : encrypt.filter((id) => !keys.ring.upstream(id));
  if (unknown.length > 0) {
    throw new KeyConfigurationError(
      `ServiceAuthModule: client.encrypt names ${unknown.map((id) => `"${id}"`).join(', ')}, which ${unknown.length > 1 ? 'are not configured upstreams' : 'is not a configured upstream'}` +
        ` (configured: ${keys.ring.upstreamIds.join(', ') || 'none'})`,
    );
  }
  if (options.guard === 'global' && !keys.inbound) {
    new Logger('ServiceAuth').warn(
      new LogLine({
        event: 'service_auth_no_callers',
        message:
          'No callers are configured (SERVICE_AUTH_CALLERS), so every route without @PublicRoute() refuses every request. ' +
          "If this service accepts no signed callers, set guard: 'none'.",
      }),
    );
  }
}

/**
 * `ServiceAuthModule.forRoot(options)` / `forRootAsync({ useFactory, inject })`.
 * Options are validated and their defaults filled in once, by the RESOLVED_OPTIONS provider, which
 * every other provider reads; then the keys are loaded and checked against them. A bad configuration
 * stops the application from starting, with a message that names the setting.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    { provide: RESOLVED_OPTIONS, inject: [SERVICE_AUTH_OPTIONS], useFactory: resolveOptions },
    {
      provide: ServiceAuthKeys,
      inject: [RESOLVED_OPTIONS],
      useFactory: async (options: ResolvedServiceAuthOptions) => {
        const keys = await ServiceAuthKeys.create(options);
        checkKeysAgainstOptions(keys, options);
        return keys;
      },
    },
    {
      provide: NONCE_STORE,
      // After ServiceAuthKeys: options and keys are validated before a Redis connection is opened.
      inject: [RESOLVED_OPTIONS, ServiceAuthKeys],
      useFactory: (options: ResolvedServiceAuthOptions): NonceStore => createNonceStore(options),
    },
    {
      provide: REQUEST_VERIFIER,
      inject: [ServiceAuthKeys, NONCE_STORE, RESOLVED_OPTIONS],
      useFactory: (keys: ServiceAuthKeys, nonces: NonceStore, options: ResolvedServiceAuthOptions) =>
        new RequestVerifier(() => keys.ring, nonces, {
          audience: options.serviceId,
          maxAgeSeconds: options.replay.maxAgeSeconds,
          maxFutureSkewSeconds: options.replay.maxFutureSkewSeconds,
          requiredComponents: options.requiredComponents,
        }),
    },
    {
      provide: VERIFICATION_OBSERVER,
      // After ServiceAuthKeys, as every provider that acts on the options: keys are checked first.
      inject: [RESOLVED_OPTIONS, ServiceAuthKeys],
      useFactory: (options: ResolvedServiceAuthOptions) => createVerificationObserver(options.metrics),
    },
    ServiceAuthGuard,
    {
      provide: APP_GUARD,
      inject: [RESOLVED_OPTIONS, ServiceAuthGuard],
      useFactory: (options: ResolvedServiceAuthOptions, guard: ServiceAuthGuard): CanActivate =>
        options.guard === 'global' ? guard : NOT_INSTALLED,
    },
    { provide: APP_FILTER, useClass: BodyParserErrorFilter },
    EncryptedExchangeInterceptor,
    {
      // With the guard installed globally, the guard runs the encrypted exchange and nothing is installed
      // here (Nest skips a global enhancer whose factory gives null): no exchange goes through Nest's
      // interceptor machinery for nothing.
      provide: APP_INTERCEPTOR,
      inject: [RESOLVED_OPTIONS, EncryptedExchangeInterceptor],
      useFactory: (options: ResolvedServiceAuthOptions, interceptor: EncryptedExchangeInterceptor): EncryptedExchangeInterceptor | null =>
        options.guard === 'global' ? null : interceptor,
    },
    SealedAnswerRegistrar,
    ApiKeyPrecheckRegistrar,
    RefusalLog,
    FastifyRawBodyRegistrar,
    TrustedCallerValidator,
  ],
  // RESOLVED_OPTIONS and ServiceAuthKeys: for SignedHttpModule (nest-service-auth/client), which signs with these keys.
  exports: [ServiceAuthKeys, ServiceAuthGuard, NONCE_STORE, RESOLVED_OPTIONS, VERIFICATION_OBSERVER, RefusalLog],
})
export class ServiceAuthModule extends ServiceAuthConfigurableModule implements OnApplicationShutdown {
  constructor(@Inject(NONCE_STORE) private readonly nonces: NonceStore) {
    super();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.nonces.close?.();
  }
}
