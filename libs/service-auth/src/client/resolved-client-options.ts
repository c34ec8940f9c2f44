import type { KeyMaterial } from '../keys/key-material.js';
import type { KeyProvider } from '../keys/key-provider.interface.js';
import type { CircuitBreakerOptions } from './circuit-breaker-options.js';
import type { RetryOptions } from './retry-options.js';
import type { SignedHttpModuleOptions } from './signed-http-options.js';
import { validateClientOptions } from './validate-client-options.js';

/** The defaults of SignedHttpModuleOptions, in one place (the option docs name the same values). */
export const DEFAULT_CLIENT_TIMEOUT_MS = 5000;
export const DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;
export const DEFAULT_MAX_REQUEST_BYTES = 10 * 1024 * 1024;
export const DEFAULT_RETRY_OPTIONS: Readonly<Required<RetryOptions>> = Object.freeze({
  maxAttempts: 3,
  baseDelayMs: 100,
  maxDelayMs: 2000,
});
export const DEFAULT_CIRCUIT_BREAKER_OPTIONS: Readonly<Required<CircuitBreakerOptions>> = Object.freeze({
  consecutiveFailures: 5,
  halfOpenAfterMs: 10_000,
});

/** SignedHttpModuleOptions validated, every default filled in: what SignedHttpService is given. */
export interface ResolvedClientOptions {
  readonly serviceId: string;
  /** Passed on as configured: ServiceAuthKeys reads the environment when neither is set. */
  readonly keys?: KeyMaterial;
  readonly keyProvider?: KeyProvider;
  readonly timeoutMs: number;
  readonly encrypt: boolean | readonly string[];
  readonly coverAuthority: boolean | readonly string[];
  readonly verifyAnswers: boolean | readonly string[];
  readonly retry: Readonly<Required<RetryOptions>> | false;
  readonly circuitBreaker: Readonly<Required<CircuitBreakerOptions>> | false;
  readonly maxResponseBytes: number;
  readonly maxRequestBytes: number;
}

/** Validates `options` (a KeyConfigurationError names the setting) and fills in the defaults. */
export function resolveClientOptions(options: SignedHttpModuleOptions): ResolvedClientOptions {
  validateClientOptions(options);
  return {
    serviceId: options.serviceId,
    keys: options.keys,
    keyProvider: options.keyProvider,
    timeoutMs: options.timeoutMs ?? DEFAULT_CLIENT_TIMEOUT_MS,
    encrypt: options.encrypt ?? false,
    coverAuthority: options.coverAuthority ?? false,
    verifyAnswers: options.verifyAnswers ?? true,
    retry: options.retry === false ? false : { ...DEFAULT_RETRY_OPTIONS, ...definedMembers(options.retry) },
    circuitBreaker:
      options.circuitBreaker === false ? false : { ...DEFAULT_CIRCUIT_BREAKER_OPTIONS, ...definedMembers(options.circuitBreaker) },
    maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    maxRequestBytes: options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES,
  };
}

/** True when `setting` (`encrypt`, `coverAuthority`) applies to the upstream `upstreamId`. */
export function appliesTo(setting: boolean | readonly string[], upstreamId: string): boolean {
  return setting === true || (Array.isArray(setting) && setting.includes(upstreamId));
}

/** `{ maxAttempts: undefined }` must not override a default when spread. */
function definedMembers<T extends object>(value: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(value ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}
