/**
 * `nest-service-auth`: the Nest module that authenticates the services calling this one.
 *
 * Needs @nestjs/common, @nestjs/core, reflect-metadata and rxjs, nothing else: the signing client
 * (`nest-service-auth/client`, axios), the Redis nonce store (`nest-service-auth/redis`,
 * ioredis), per-caller rate limits (`nest-service-auth/throttler`, @nestjs/throttler) and the protocol
 * without Nest (`nest-service-auth/core`) are entries of their own, so that this one loads none of
 * their optional peers. The types below import none of them either.
 */
export { ServiceAuthModule } from './nest/service-auth.module.js';
export { HttpRoutingConfig } from './nest/options/http-routing-config.js';
export type { ServiceAuthSetupOptions } from './nest/http-setup/service-auth-setup.js';
export { ServiceAuthGuard } from './nest/verification/service-auth.guard.js';
export { ServiceAuthKeys } from './nest/service-auth-keys.service.js';
export { ServiceAuthException } from './nest/verification/service-auth.exception.js';
export { TrustedCaller } from './nest/decorators/trusted-caller.decorator.js';
export { PublicRoute } from './nest/decorators/public-route.decorator.js';
export { isMessageEventRefusal } from './nest/messaging/is-message-event-refusal.js';
export { Caller } from './nest/decorators/caller.decorator.js';
export { EncryptedBody } from './nest/decorators/encrypted-body.decorator.js';
export type {
  ServiceAuthModuleOptions,
  ReplayOptions,
  ReplayRedisOptions,
  IoredisClient,
  EncryptionPolicy,
  GuardInstallation,
  LoggingOptions,
} from './nest/options/service-auth-options.interface.js';
export type { KeyProvider } from './keys/key-provider.interface.js';
export { FileKeyProvider } from './keys/file-key-provider.js';
export type { KeyMaterial } from './keys/key-material.js';
export type { VerifiedCaller } from './protocol/verified-caller.js';
export type { ReasonCode } from './errors/reason-codes.js';
export type { VerificationObserver, VerificationEvent, RefusalEvent } from './metrics/verification-observer.js';
export type { VerificationMetricsOption } from './metrics/verification-metrics-option.js';
export type { VerificationOutcome } from './metrics/opentelemetry-verification-observer.js';
export { METER_NAME } from './metrics/opentelemetry-global-meter.js';
// For @nestjs/terminus (optional peer), which this file neither imports nor needs at type level.
export { ReplayStoreHealthIndicator, type ReplayStoreHealthResult } from './health/replay-store.health-indicator.js';
