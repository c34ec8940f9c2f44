import type { CircuitBreakerOptions } from '../client/circuit-breaker-options.js';
import type { RetryOptions } from '../client/retry-options.js';
import type { KeyMaterial } from '../keys/key-material.js';
import type { KeyProvider } from '../keys/key-provider.interface.js';
import type { VerificationMetricsOption } from '../metrics/verification-metrics-option.js';
import { DEFAULT_MAX_NONCES_PER_CALLER } from '../replay/memory-nonce-store.js';
import type { NonceStore } from '../replay/nonce-store.interface.js';
import { DEFAULT_MAX_AGE_SECONDS, DEFAULT_MAX_FUTURE_SKEW_SECONDS } from '../replay/replay-window.js';
import type {
  EncryptionPolicy,
  GuardInstallation,
  LoggingOptions,
  ReplayRedisOptions,
  ServiceAuthModuleOptions,
} from './service-auth-options.interface.js';
import { validateOptions } from './validate-options.js';

/**
 * The defaults of ServiceAuthModuleOptions, in one place (the option docs in
 * service-auth-options.interface.ts name the same values). No provider reads an option with `??`:
 * they all read ResolvedServiceAuthOptions.
 */
export const DEFAULT_GUARD_INSTALLATION: GuardInstallation = 'global';
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_ENCRYPTION_POLICY: EncryptionPolicy = 'optional';
export const DEFAULT_CLIENT_TIMEOUT_MS = 5000;
export const DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;
export const DEFAULT_MAX_REQUEST_BYTES = 10 * 1024 * 1024;
export const DEFAULT_STRANGER_REFUSALS_PER_SECOND = 10;
export const DEFAULT_RETRY_OPTIONS: Readonly<Required<RetryOptions>> = Object.freeze({
  maxAttempts: 3,
  baseDelayMs: 100,
  maxDelayMs: 2000,
});
export const DEFAULT_CIRCUIT_BREAKER_OPTIONS: Readonly<Required<CircuitBreakerOptions>> = Object.freeze({
  consecutiveFailures: 5,
  halfOpenAfterMs: 10_000,
});

export interface ResolvedReplayOptions {
  readonly maxAgeSeconds: number;
  readonly maxFutureSkewSeconds: number;
  /** At most one of `store` and `redis` (validated); neither means the in-memory store. */
  readonly store?: NonceStore;
  readonly redis?: ReplayRedisOptions;
  /** The in-memory store's per-caller budget. */
  readonly maxNoncesPerCaller: number;
}

export interface ResolvedClientOptions {
  readonly timeoutMs: number;
  readonly encrypt: boolean | readonly string[];
  readonly retry: Readonly<Required<RetryOptions>> | false;
  readonly circuitBreaker: Readonly<Required<CircuitBreakerOptions>> | false;
  readonly maxResponseBytes: number;
  readonly maxRequestBytes: number;
}

/**
 * ServiceAuthModuleOptions validated, with every default filled in: what the module's providers
 * (guard, interceptor, Fastify registrar, SignedHttpService, …) are given, under RESOLVED_OPTIONS.
 * The key source is passed on as configured: ServiceAuthKeys reads the environment when neither
 * `keys` nor `keyProvider` is set.
 */
export interface ResolvedServiceAuthOptions {
  readonly serviceId: string;
  readonly guard: GuardInstallation;
  readonly keys?: KeyMaterial;
  readonly keyProvider?: KeyProvider;
  readonly replay: ResolvedReplayOptions;
  readonly maxBodyBytes: number;
  readonly requiredComponents: readonly string[];
  readonly encryption: EncryptionPolicy;
  readonly client: ResolvedClientOptions;
  readonly metrics: VerificationMetricsOption;
  readonly logging: Required<LoggingOptions>;
}

/** Validates `options` (a KeyConfigurationError names the setting) and fills in the defaults. */
export function resolveOptions(options: ServiceAuthModuleOptions): ResolvedServiceAuthOptions {
  validateOptions(options);
  const { replay = {}, client = {} } = options;
  return {
    serviceId: options.serviceId,
    guard: options.guard ?? DEFAULT_GUARD_INSTALLATION,
    keys: options.keys,
    keyProvider: options.keyProvider,
    replay: {
      maxAgeSeconds: replay.maxAgeSeconds ?? DEFAULT_MAX_AGE_SECONDS,
      maxFutureSkewSeconds: replay.maxFutureSkewSeconds ?? DEFAULT_MAX_FUTURE_SKEW_SECONDS,
      store: replay.store,
      redis: replay.redis,
      maxNoncesPerCaller: replay.maxNoncesPerCaller ?? DEFAULT_MAX_NONCES_PER_CALLER,
    },
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    requiredComponents: options.requiredComponents ?? [],
    encryption: options.encryption ?? DEFAULT_ENCRYPTION_POLICY,
    client: {
      timeoutMs: client.timeoutMs ?? DEFAULT_CLIENT_TIMEOUT_MS,
      encrypt: client.encrypt ?? false,
      retry: client.retry === false ? false : { ...DEFAULT_RETRY_OPTIONS, ...definedMembers(client.retry) },
      circuitBreaker:
        client.circuitBreaker === false ? false : { ...DEFAULT_CIRCUIT_BREAKER_OPTIONS, ...definedMembers(client.circuitBreaker) },
      maxResponseBytes: client.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
      maxRequestBytes: client.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES,
    },
    metrics: options.metrics ?? false,
    logging: { strangerRefusalsPerSecond: options.logging?.strangerRefusalsPerSecond ?? DEFAULT_STRANGER_REFUSALS_PER_SECOND },
  };
}

/** `{ maxAttempts: undefined }` must not override a default when spread. */
function definedMembers<T extends object>(value: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(value ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}
