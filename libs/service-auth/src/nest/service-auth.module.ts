import { Module, type OnApplicationShutdown, Inject, Logger, type CanActivate, type INestApplication } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR, DiscoveryModule, DiscoveryService } from '@nestjs/core';
import { createVerificationObserver } from '../metrics/verification-metrics-option.js';
import { RequestVerifier } from '../protocol/request-verifier.js';
import type { NonceStore } from '../replay/nonce-store.interface.js';
import { EncryptedExchangeInterceptor } from './encryption/encrypted-exchange.interceptor.js';
import { SignedAnswerInterceptor } from './messaging/signed-answer.interceptor.js';
import { hasMessageHandlers, messageControllers } from './messaging/has-message-handlers.js';
import { bindMessageEnhancers, type MessageEnhancerBinding } from './messaging/message-handler-enhancers.js';
import { usesEncryption } from './encryption/uses-encryption.js';
import { HttpRoutingConfig } from './options/http-routing-config.js';
import { RoutingComponents } from './verification/routing-components.js';
import { ProtectedRouteTable } from './http-setup/protected-route-table.js';
import { setupServiceAuth, type ServiceAuthSetupOptions } from './http-setup/service-auth-setup.js';
import { StrangersRefusedBeforeBody } from './http-setup/strangers-refused-before-body.js';
import { RefusalLog } from './logging/refusal-log.js';
import { createNonceStore } from './nonce-store.factory.js';
import { resolveOptions, type ResolvedServiceAuthOptions } from './options/resolved-options.js';
import { NONCE_STORE, REQUEST_VERIFIER, RESOLVED_OPTIONS, VERIFICATION_OBSERVER } from './options/service-auth.constants.js';
import { ServiceAuthGuard } from './verification/service-auth.guard.js';
import { ServiceAuthKeys } from './service-auth-keys.service.js';
import { SERVICE_AUTH_OPTIONS, ServiceAuthConfigurableModule } from './options/service-auth.module-definition.js';
import { TrustedCallerValidator } from './verification/trusted-caller.validator.js';

import { LogLine } from './logging/log-line.js';

/** The provider whose factory binds the message enhancers (see bindMessageEnhancers). */
const MESSAGE_ENHANCERS_BOUND = Symbol('MESSAGE_ENHANCERS_BOUND');

/** What APP_GUARD resolves to when the application installs ServiceAuthGuard itself, or not at all. */
const NOT_INSTALLED: CanActivate = { canActivate: () => true };

/**
 * The settings that only make sense together with the keys: refused (or warned about) once both
 * are known, so that a service never starts with a check that silently does nothing.
 */
function checkKeysAgainstOptions(keys: ServiceAuthKeys, options: ResolvedServiceAuthOptions): void {
  if (options.guard === 'global' && !keys.inbound) {
    new Logger('ServiceAuth').warn(
      new LogLine({
        event: 'service_auth_no_callers',
        message:
          'No callers are configured (SERVICE_AUTH_CALLERS), so every route without @PublicRoute() refuses every request. ' +
          'A service that accepts no signed callers does not register ServiceAuthModule (to call others, SignedHttpModule.register() alone).',
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
    EncryptedExchangeInterceptor,
    {
      // Only where answers are signed or some route can use encryption: otherwise nothing is installed
      // (Nest skips a global enhancer whose factory gives null), and no exchange goes through it for nothing.
      provide: APP_INTERCEPTOR,
      inject: [RESOLVED_OPTIONS, DiscoveryService, EncryptedExchangeInterceptor],
      useFactory: (
        options: ResolvedServiceAuthOptions,
        discovery: DiscoveryService,
        interceptor: EncryptedExchangeInterceptor,
      ): EncryptedExchangeInterceptor | null => (options.signAnswers || usesEncryption(options, discovery) ? interceptor : null),
    },
    SignedAnswerInterceptor,
    {
      // Only in an application with microservice handlers: answers to verified send() calls are signed.
      provide: APP_INTERCEPTOR,
      inject: [DiscoveryService, SignedAnswerInterceptor],
      useFactory: (discovery: DiscoveryService, interceptor: SignedAnswerInterceptor): SignedAnswerInterceptor | null =>
        hasMessageHandlers(discovery) ? interceptor : null,
    },
    {
      // The guard (when global; the unverified-message check when manual) and the answer interceptor, also
      // bound to every controller with message handlers: a microservice that does not inherit the app's
      // configuration runs them too. A factory, so that it runs while the app is created, before any
      // microservice reads its handlers; its value removes them when the app closes (onModuleDestroy).
      provide: MESSAGE_ENHANCERS_BOUND,
      inject: [RESOLVED_OPTIONS, DiscoveryService, ServiceAuthGuard, SignedAnswerInterceptor],
      useFactory: (
        options: ResolvedServiceAuthOptions,
        discovery: DiscoveryService,
        guard: ServiceAuthGuard,
        interceptor: SignedAnswerInterceptor,
      ): MessageEnhancerBinding =>
        bindMessageEnhancers(messageControllers(discovery), {
          guard: options.guard === 'global' ? guard : undefined,
          interceptor,
          unverifiedCheck: options.guard === 'manual',
        }),
    },
    RefusalLog,
    HttpRoutingConfig,
    RoutingComponents,
    ProtectedRouteTable,
    StrangersRefusedBeforeBody,
    TrustedCallerValidator,
  ],
  // Everything ServiceAuthGuard injects, so that with `guard: 'manual'` the app can apply it with
  // @UseGuards, register a subclass of it as APP_GUARD, or inject it into a guard of its own.
  exports: [
    ServiceAuthKeys,
    ServiceAuthGuard,
    REQUEST_VERIFIER,
    NONCE_STORE,
    RESOLVED_OPTIONS,
    VERIFICATION_OBSERVER,
    RefusalLog,
    RoutingComponents,
    HttpRoutingConfig,
  ],
})
export class ServiceAuthModule extends ServiceAuthConfigurableModule implements OnApplicationShutdown {
  /**
   * The start-up step for an HTTP application, called in `main.ts` before `app.listen()` (as
   * `SwaggerModule.setup` is):
   *
   * ```ts
   * const app = await NestFactory.create(AppModule);
   * ServiceAuthModule.setup(app, { globalPrefix: 'api', versioning: { type: VersioningType.URI } });
   * await app.listen(3000);
   * ```
   *
   * It applies `globalPrefix` (`app.setGlobalPrefix`) and `versioning` (`app.enableVersioning`) and
   * records them (HttpRoutingConfig), so that the library routes by the same configuration Nest does;
   * installs the early stranger check (a request with a body and no known API key, on a route that
   * needs a caller, is refused before its body is read: an Express middleware before the body parsers,
   * a Fastify `onRequest` hook); and owns the body parsers (JSON, urlencoded, text/plain,
   * application/jose; bounded by `maxBodyBytes`, raw bytes kept, nothing inflated, refusals with a
   * reason code). Without it the library adds nothing to the app: Nest's own parsers run (their
   * refusals carry no reason code, `rawBody: true` is needed, strangers' bodies are read before the
   * guard refuses them), and versioned handlers stop start-up.
   */
  static setup(app: INestApplication, options?: ServiceAuthSetupOptions): void {
    setupServiceAuth(app, options);
  }

  constructor(@Inject(NONCE_STORE) private readonly nonces: NonceStore) {
    super();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.nonces.close?.();
  }
}
