import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { ServiceAuthModule, type KeyProvider } from 'nest-service-auth';
import { EnvKeyProvider } from 'nest-service-auth/core';
import { HealthController } from './health/health.controller.js';
import { OrdersModule } from './orders/orders.module.js';

/** An integer setting, or undefined when unset (the library's default applies); ServiceAuthModule checks its range. */
function optionalInteger(config: ConfigService, name: string): number | undefined {
  const value = config.get<string | number>(name);
  if (value === undefined || value === '') return undefined;
  if (typeof value === 'number') return value;
  if (!/^\s*-?\d+\s*$/.test(value)) throw new Error(`${name} must be an integer (got ${JSON.stringify(value)})`);
  return Number(value);
}

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
            // The public edge: it accepts no signed callers, so the guard is not installed.
            guard: 'none',
            keyProvider: keyProvider ?? new EnvKeyProvider({ get: (name) => config.get<string>(name) }),
            maxBodyBytes: Number(config.get('MAX_BODY_BYTES') ?? 64 * 1024),
            client: {
              // Orders travel to the inventory encrypted (JWE), and its answers come back encrypted.
              encrypt: config.get('INVENTORY_ENCRYPTION') === 'off' ? false : ['inventory-service'],
              timeoutMs: optionalInteger(config, 'INVENTORY_TIMEOUT_MS'),
              // Orders carry an Idempotency-Key, so they are retried on network errors, timeouts and 502/503/504.
              retry:
                config.get('INVENTORY_RETRY') === 'off'
                  ? false
                  : {
                      maxAttempts: optionalInteger(config, 'INVENTORY_RETRY_MAX_ATTEMPTS'),
                      baseDelayMs: optionalInteger(config, 'INVENTORY_RETRY_BASE_DELAY_MS'),
                      maxDelayMs: optionalInteger(config, 'INVENTORY_RETRY_MAX_DELAY_MS'),
                    },
              circuitBreaker:
                config.get('INVENTORY_BREAKER') === 'off'
                  ? false
                  : {
                      consecutiveFailures: optionalInteger(config, 'INVENTORY_BREAKER_FAILURES'),
                      halfOpenAfterMs: optionalInteger(config, 'INVENTORY_BREAKER_HALF_OPEN_MS'),
                    },
            },
          }),
        }),
        OrdersModule,
      ],
      controllers: [HealthController],
    };
  }
}
