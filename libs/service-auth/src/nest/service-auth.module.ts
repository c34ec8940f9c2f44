import { HttpModule } from '@nestjs/axios';
import { Module, type OnApplicationShutdown, Inject } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, DiscoveryModule } from '@nestjs/core';
import { RequestVerifier } from '../protocol/request-verifier.js';
import { MemoryNonceStore } from '../replay/memory-nonce-store.js';
import type { NonceStore } from '../replay/nonce-store.interface.js';
import { BodyParserErrorFilter } from './body-parser-error.filter.js';
import { DecryptBodyInterceptor } from './decrypt-body.interceptor.js';
import { EncryptResponseInterceptor } from './encrypt-response.interceptor.js';
import { JweBodyParserRegistrar } from './jwe-body-parser.registrar.js';
import { NONCE_STORE, REQUEST_VERIFIER } from './service-auth.constants.js';
import { ServiceAuthGuard } from './service-auth.guard.js';
import { ServiceAuthKeys } from './service-auth-keys.service.js';
import { SERVICE_AUTH_OPTIONS, ServiceAuthConfigurableModule } from './service-auth.module-definition.js';
import type { ServiceAuthModuleOptions } from './service-auth-options.interface.js';
import { validateOptions } from './validate-options.js';
import { SignedHttpService } from './signed-http.service.js';
import { TrustedCallerValidator } from './trusted-caller.validator.js';

/**
 * `ServiceAuthModule.forRoot(options)` / `forRootAsync({ useFactory, inject })`.
 * Options and keys are validated once, while the module is created: a bad configuration stops the
 * application from starting, with a message that names the setting.
 */
@Module({
  imports: [HttpModule, DiscoveryModule],
  providers: [
    {
      provide: ServiceAuthKeys,
      inject: [SERVICE_AUTH_OPTIONS],
      useFactory: (options: ServiceAuthModuleOptions) => {
        validateOptions(options);
        return ServiceAuthKeys.create(options);
      },
    },
    {
      provide: NONCE_STORE,
      inject: [SERVICE_AUTH_OPTIONS],
      useFactory: (options: ServiceAuthModuleOptions): NonceStore => options.replay?.store ?? new MemoryNonceStore(),
    },
    {
      provide: REQUEST_VERIFIER,
      inject: [ServiceAuthKeys, NONCE_STORE, SERVICE_AUTH_OPTIONS],
      useFactory: (keys: ServiceAuthKeys, nonces: NonceStore, options: ServiceAuthModuleOptions) =>
        new RequestVerifier(() => keys.ring, nonces, { ...options.replay, requiredComponents: options.requiredComponents }),
    },
    ServiceAuthGuard,
    { provide: APP_GUARD, useExisting: ServiceAuthGuard },
    { provide: APP_FILTER, useClass: BodyParserErrorFilter },
    { provide: APP_INTERCEPTOR, useClass: DecryptBodyInterceptor },
    { provide: APP_INTERCEPTOR, useClass: EncryptResponseInterceptor },
    JweBodyParserRegistrar,
    TrustedCallerValidator,
    SignedHttpService,
  ],
  exports: [ServiceAuthKeys, SignedHttpService, ServiceAuthGuard, NONCE_STORE],
})
export class ServiceAuthModule extends ServiceAuthConfigurableModule implements OnApplicationShutdown {
  constructor(@Inject(NONCE_STORE) private readonly nonces: NonceStore) {
    super();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.nonces.close?.();
  }
}
