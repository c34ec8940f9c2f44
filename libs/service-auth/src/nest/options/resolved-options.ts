import type { KeyMaterial } from '../../keys/key-material.js';
import type { KeyProvider } from '../../keys/key-provider.interface.js';
import type { VerificationMetricsOption } from '../../metrics/verification-metrics-option.js';
import { DEFAULT_MAX_NONCES_PER_CALLER } from '../../replay/memory-nonce-store.js';
import type { NonceStore } from '../../replay/nonce-store.interface.js';
import { DEFAULT_MAX_AGE_SECONDS, DEFAULT_MAX_FUTURE_SKEW_SECONDS } from '../../replay/replay-window.js';
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
export const DEFAULT_STRANGER_REFUSALS_PER_SECOND = 10;

export interface ResolvedReplayOptions {
  readonly maxAgeSeconds: number;
  readonly maxFutureSkewSeconds: number;
  /** At most one of `store` and `redis` (validated); neither means the in-memory store. */
  readonly store?: NonceStore;
  readonly redis?: ReplayRedisOptions;
  /** The in-memory store's per-caller budget. */
  readonly maxNoncesPerCaller: number;
}

/**
 * ServiceAuthModuleOptions validated, with every default filled in: what the module's providers
 * (guard, interceptor, Fastify registrar, …) are given, under RESOLVED_OPTIONS.
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
  readonly signAnswers: boolean;
  readonly metrics: VerificationMetricsOption;
  readonly logging: Required<LoggingOptions>;
}

/** Validates `options` (a KeyConfigurationError names the setting) and fills in the defaults. */
export function resolveOptions(options: ServiceAuthModuleOptions): ResolvedServiceAuthOptions {
  validateOptions(options);
  const { replay = {} } = options;
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
    signAnswers: options.signAnswers ?? true,
    metrics: options.metrics ?? false,
    logging: { strangerRefusalsPerSecond: options.logging?.strangerRefusalsPerSecond ?? DEFAULT_STRANGER_REFUSALS_PER_SECOND },
  };
}
