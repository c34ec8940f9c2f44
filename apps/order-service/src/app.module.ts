import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import type { KeyProvider } from 'nest-service-auth';
import { HealthController } from './health/health.controller.js';
import { OrdersModule } from './orders/orders.module.js';

/**
 * The public edge: it accepts no signed callers, so it does not register ServiceAuthModule; it calls
 * inventory-service with SignedHttpModule (see OrdersModule).
 */
@Module({})
export class AppModule {
  /**
   * `env` is the configuration source (process.env in production; a fixture in tests).
   * `keyProvider` replaces the environment as the source of keys (a vault; a test that rotates keys).
   */
  static forRoot(env: Record<string, string | undefined>, keyProvider?: KeyProvider): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, skipProcessEnv: true, load: [() => env] }),
        OrdersModule.forRoot(keyProvider),
      ],
      controllers: [HealthController],
    };
  }
}
