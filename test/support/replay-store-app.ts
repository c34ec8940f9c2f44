/**
 * A callee whose nonces and rate limits live in a given Redis topology (one Redis, Cluster or
 * Sentinel), for the scale-out e2e tests: `GET /free` (any configured caller, not rate limited) and
 * `GET /limited` (CallerThrottlerGuard, LIMITED_PER_MINUTE per caller, counted in Redis).
 */
import { Controller, Get, Module, UseGuards, type INestApplication } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { Caller, ServiceAuthModule, type ReplayRedisOptions, type VerifiedCaller } from 'nest-service-auth';
import { CallerThrottlerGuard, RedisThrottlerStorage, type RedisThrottlerStorageOptions } from 'nest-service-auth/throttler';
import { createServiceApp } from 'service-app';
import type { TestCredential } from './credentials.js';
import { listenUrl, type Adapter } from './demo-services.js';

export const LIMITED_PER_MINUTE = 3;

@Controller('free')
class FreeController {
  @Get()
  whoami(@Caller() caller: VerifiedCaller) {
    return { caller: caller.id };
  }
}

@Controller('limited')
@UseGuards(CallerThrottlerGuard)
class LimitedController {
  @Get()
  whoami(@Caller() caller: VerifiedCaller) {
    return { caller: caller.id };
  }
}

export interface ReplayStoreApp {
  app: INestApplication;
  url: string;
}

export async function startReplayStoreApp(
  adapter: Adapter,
  callers: Record<string, TestCredential>,
  redis: ReplayRedisOptions,
  throttlerStorage: Omit<RedisThrottlerStorageOptions, 'namespace'>,
  maxNoncesPerCaller = 1_000_000,
): Promise<ReplayStoreApp> {
  @Module({
    imports: [
      ServiceAuthModule.forRoot({
        serviceId: 'inventory-service',
        keys: { callers: Object.entries(callers).map(([id, credential]) => ({ id, keys: [credential] })) },
        replay: { redis, maxNoncesPerCaller },
      }),
      ThrottlerModule.forRoot({
        throttlers: [{ name: 'default', ttl: 60_000, limit: LIMITED_PER_MINUTE }],
        storage: new RedisThrottlerStorage({ ...throttlerStorage, namespace: 'inventory-service' } as RedisThrottlerStorageOptions),
      }),
    ],
    controllers: [FreeController, LimitedController],
  })
  class ReplayStoreAppModule {}
  const app = await createServiceApp(ReplayStoreAppModule, { adapter, logger: false });
  return { app, url: await listenUrl(app) };
}
