import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { PublicRoute, ReplayStoreHealthIndicator } from 'nest-service-auth';

/**
 * `GET /health`: 200 `{ status: 'ok', info: { replay_store: { status: 'up' } }, ... }`, or 503 with
 * terminus' body (`status: 'error'`, the failed check under `error`) when the replay store cannot
 * take claims: Redis (REDIS_URL) not answering, or the in-process store full. Signed requests are
 * refused meanwhile (503 replay_store_unavailable), so this is the readiness signal to act on.
 */
@Controller('health')
@PublicRoute()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly replayStore: ReplayStoreHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.replayStore.isHealthy('replay_store')]);
  }
}
