import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TerminusModule } from '@nestjs/terminus';
import { ThrottlerModule } from '@nestjs/throttler';
import { ServiceAuthModule, ReplayStoreHealthIndicator, type KeyProvider, type EncryptionPolicy } from 'nest-service-auth';
import { EnvKeyProvider } from 'nest-service-auth/core';
import { HealthController } from './health/health.controller.js';
import { InventoryModule } from './inventory/inventory.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { PrometheusMetrics } from './metrics/prometheus-metrics.js';
import type { MemoryStockData } from './stock/memory-stock-store.js';
import { redisUrl, throttlerOptions } from './rate-limit.config.js';

@Module({})
export class AppModule {
  /**
   * `env` is the configuration source (process.env in production; a fixture in tests).
   * `keyProvider` replaces the environment as the source of keys (a vault; a test that rotates keys).
   * `stockData` makes the stock an in-memory one on that data (a test that restarts the inventory on it).
   */
  static forRoot(env: Record<string, string | undefined>, keyProvider?: KeyProvider, stockData?: MemoryStockData): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, skipProcessEnv: true, load: [() => env] }),
        ServiceAuthModule.forRootAsync({
          imports: [MetricsModule],
          inject: [ConfigService, PrometheusMetrics],
          useFactory: (config: ConfigService, prometheus: PrometheusMetrics) => ({
            serviceId: 'inventory-service',
            keyProvider: keyProvider ?? new EnvKeyProvider({ get: (name) => config.get<string>(name) }),
            maxBodyBytes: Number(config.get('MAX_BODY_BYTES') ?? 64 * 1024),
            // Orders are confidential: plaintext bodies are refused unless configured otherwise.
            encryption: config.get<EncryptionPolicy>('ENCRYPTION_POLICY') ?? 'required',
            // REDIS_URL set: nonces in Redis (keys namespaced by serviceId), shared by every replica.
            // Unset: in this process only, which is right for ONE instance; replicas need Redis, or a
            // captured request can be replayed once against each replica.
            replay: redisUrl(config) ? { redis: { url: redisUrl(config)! } } : undefined,
            // Every decision of the guard, by caller, route and outcome/reason, on GET /metrics.
            metrics: { meter: prometheus.meter },
          }),
        }),
        // Per-caller rate limits (CallerThrottlerGuard on the controllers), shared through Redis when REDIS_URL is set.
        ThrottlerModule.forRootAsync({ inject: [ConfigService], useFactory: throttlerOptions }),
        InventoryModule.forRoot(stockData),
        MetricsModule,
        // Failures are answered with terminus' body (503); its own log of them is one JSON line.
        TerminusModule.forRoot({ errorLogStyle: 'json' }),
      ],
      controllers: [HealthController],
      providers: [ReplayStoreHealthIndicator],
    };
  }
}
