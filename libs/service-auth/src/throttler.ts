/**
 * `nest-service-auth/throttler`: per-caller rate limits on top of @nestjs/throttler (^6).
 *
 *   import { CallerThrottlerGuard, RedisThrottlerStorage } from 'nest-service-auth/throttler';
 *
 * A separate entry point, not part of `nest-service-auth`: @nestjs/throttler is an optional peer
 * dependency, and CallerThrottlerGuard extends its ThrottlerGuard, so the main entry would fail to
 * load (ERR_MODULE_NOT_FOUND) for every user without it if it re-exported the guard. Importing this
 * entry needs @nestjs/throttler; RedisThrottlerStorage also needs ioredis, loaded only when a storage
 * is created from a URL.
 *
 * Runtime: @nestjs/throttler 6 is CommonJS and require()s the ESM-only Nest 12 packages, which needs
 * Node >= 20.19 or >= 22.12 (require(esm); the package's own engines field says so). Jest before
 * Node 24.9 cannot do that itself: see test/support/jest/nestjs-throttler.ts for this repo's bridge.
 *
 * Wiring (see apps/inventory-service/src/app.module.ts):
 *   ThrottlerModule.forRoot({ throttlers: [{ ttl: 60_000, limit: 600 }],
 *                             storage: new RedisThrottlerStorage({ url, namespace: 'inventory-service' }) })
 *   @UseGuards(CallerThrottlerGuard) on controllers (after the global ServiceAuthGuard), never APP_GUARD.
 */
export { CallerThrottlerGuard } from './nest/throttling/caller-throttler.guard.js';
export {
  RedisThrottlerStorage,
  DEFAULT_THROTTLER_KEY_PREFIX,
  DEFAULT_THROTTLER_STORAGE_TIMEOUT_MS,
  type RedisThrottlerStorageOptions,
} from './redis/redis-throttler.storage.js';
export { ThrottlerStorageUnavailableError } from './errors/throttler-storage-unavailable.error.js';
