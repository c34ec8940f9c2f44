import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { EnvKeyProvider, ServiceAuthModule, type KeyProvider } from 'nest-service-auth';
import { HealthController } from './health/health.controller.js';
import { OrdersModule } from './orders/orders.module.js';
import { inventoryUrl } from './orders/inventory-url.js';

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
        ServiceAuthModule.forRootAsync({
          inject: [ConfigService],
          useFactory: (config: ConfigService) => ({
            serviceId: 'order-service',
            keyProvider: keyProvider ?? new EnvKeyProvider({ get: (name) => config.get<string>(name) }),
            maxBodyBytes: Number(config.get('MAX_BODY_BYTES') ?? 64 * 1024),
            // Orders travel to the inventory encrypted (JWE), and its answers come back encrypted.
            client: { encrypt: config.get('INVENTORY_ENCRYPTION') === 'off' ? false : [inventoryUrl(config)] },
          }),
        }),
        OrdersModule,
      ],
      controllers: [HealthController],
    };
  }
}
