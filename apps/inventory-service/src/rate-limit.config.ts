import type { ConfigService } from '@nestjs/config';
import type { ThrottlerModuleOptions } from '@nestjs/throttler';
import { RedisThrottlerStorage } from 'nest-service-auth/throttler';

export const SERVICE_ID = 'inventory-service';
export const DEFAULT_RATE_LIMIT_PER_MINUTE = 600;

/** REDIS_URL, or undefined when unset or blank. */
export function redisUrl(config: ConfigService): string | undefined {
  const url = config.get<string>('REDIS_URL')?.trim();
  return url ? url : undefined;
}

/** RATE_LIMIT_PER_MINUTE: a positive integer, default 600. A bad value stops the service from starting. */
export function ratePerMinute(config: ConfigService): number {
  const raw = config.get<string>('RATE_LIMIT_PER_MINUTE');
  if (raw === undefined || raw.trim() === '') return DEFAULT_RATE_LIMIT_PER_MINUTE;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(`RATE_LIMIT_PER_MINUTE must be a positive integer (got ${JSON.stringify(raw)})`);
  }
  return value;
}

/**
 * Each caller may make RATE_LIMIT_PER_MINUTE requests per minute to each throttled route
 * (CallerThrottlerGuard counts by verified caller, not by IP), then is refused (429) until a minute
 * has passed. With REDIS_URL the budget is shared by every replica; without it, each process counts
 * on its own (a caller then gets the limit once per replica). Redis connection errors are logged by
 * the replay store, which uses the same REDIS_URL.
 */
export function throttlerOptions(config: ConfigService): ThrottlerModuleOptions {
  const url = redisUrl(config);
  return {
    throttlers: [{ name: 'default', ttl: 60_000, limit: ratePerMinute(config) }],
    storage: url ? new RedisThrottlerStorage({ url, namespace: SERVICE_ID }) : undefined,
  };
}
