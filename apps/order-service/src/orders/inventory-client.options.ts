import type { ConfigService } from '@nestjs/config';
import type { KeyProvider } from 'nest-service-auth';
import type { SignedHttpModuleOptions } from 'nest-service-auth/client';
import { EnvKeyProvider } from 'nest-service-auth/core';

/** An integer setting, or undefined when unset (the library's default applies); SignedHttpModule checks its range. */
function optionalInteger(config: ConfigService, name: string): number | undefined {
  const value = config.get<string | number>(name);
  if (value === undefined || value === '') return undefined;
  if (typeof value === 'number') return value;
  if (!/^\s*-?\d+\s*$/.test(value)) throw new Error(`${name} must be an integer (got ${JSON.stringify(value)})`);
  return Number(value);
}

/**
 * How order-service calls inventory-service: its keys from the configuration (or `keyProvider`), orders
 * encrypted, idempotent orders retried, one circuit breaker per upstream. Each setting can be turned
 * off or tuned from the environment.
 */
export function inventoryClientOptions(config: ConfigService, keyProvider?: KeyProvider): SignedHttpModuleOptions {
  return {
    serviceId: 'order-service',
    keyProvider: keyProvider ?? new EnvKeyProvider({ get: (name) => config.get<string>(name) }),
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
  };
}
