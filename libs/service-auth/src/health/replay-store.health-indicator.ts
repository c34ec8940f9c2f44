import { Inject, Injectable } from '@nestjs/common';
import { NONCE_STORE } from '../nest/options/service-auth.constants.js';
import type { NonceStore } from '../replay/nonce-store.interface.js';

/**
 * A @nestjs/terminus health indicator result (`HealthIndicatorResult`), declared structurally so
 * that this file loads, and type-checks, without terminus installed.
 */
export type ReplayStoreHealthResult = Record<string, { status: 'up' } | { status: 'down'; message: string }>;

/**
 * Health of the replay (nonce) store the module uses, for @nestjs/terminus (^11, ^12):
 *
 *   @Get('health') @HealthCheck()
 *   check() { return this.health.check([() => this.replayStore.isHealthy('replay_store')]); }
 *
 * `up` when the store can take claims now: Redis answered PING within the store's `timeoutMs`
 * (250 ms by default), or the in-process store is not full. `down` otherwise, with the store's
 * message (the Redis URL's password redacted); HealthCheckService then answers 503 with terminus'
 * usual body. Signed requests are refused 503 (replay_store_unavailable) while the store is down,
 * so a readiness probe on this check takes the instance out of rotation instead.
 *
 * The result is returned, never thrown, which terminus treats as a failed check (it is how its own
 * HealthIndicatorService reports one); nothing of terminus is imported, at run time or in types.
 * Provide it next to TerminusModule: `providers: [ReplayStoreHealthIndicator]` (it injects the
 * module's NONCE_STORE, which the global ServiceAuthModule exports).
 */
@Injectable()
export class ReplayStoreHealthIndicator {
  constructor(@Inject(NONCE_STORE) private readonly store: NonceStore) {}

  async isHealthy(key = 'replay_store'): Promise<ReplayStoreHealthResult> {
    try {
      await this.store.ping?.();
      return { [key]: { status: 'up' } };
    } catch (err) {
      return { [key]: { status: 'down', message: err instanceof Error ? err.message : 'The replay store did not answer' } };
    }
  }
}
