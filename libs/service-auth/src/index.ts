// Nest layer
// Per-caller rate limiting lives in the subpath 'nest-service-auth/throttler' (CallerThrottlerGuard,
// RedisThrottlerStorage): it needs the optional peer @nestjs/throttler, which this entry must not load.
export { ServiceAuthModule } from './nest/service-auth.module.js';
export { ServiceAuthGuard } from './nest/service-auth.guard.js';
export { readRouteAccess, type RouteAccess } from './nest/route-access.js';
export { ServiceAuthKeys } from './nest/service-auth-keys.service.js';
export { SignedHttpService } from './nest/signed-http.service.js';
export { TrustedCaller } from './nest/trusted-caller.decorator.js';
export { PublicRoute } from './nest/public-route.decorator.js';
export { Caller } from './nest/caller.decorator.js';
export { EncryptedBody } from './nest/encrypted-body.decorator.js';
export { EncryptedExchangeInterceptor } from './nest/encrypted-exchange.interceptor.js';
export { ServiceAuthException } from './nest/service-auth.exception.js';
export { BodyParserErrorFilter } from './nest/body-parser-error.filter.js';
export { SERVICE_AUTH_OPTIONS, type SERVICE_AUTH_ASYNC_OPTIONS_TYPE, type SERVICE_AUTH_OPTIONS_TYPE } from './nest/service-auth.module-definition.js';
export { NONCE_STORE, VERIFIED_CALLER_PROPERTY } from './nest/service-auth.constants.js';
export type { ServiceAuthModuleOptions, ReplayOptions, ReplayRedisOptions, SignedHttpClientOptions, EncryptionPolicy } from './nest/service-auth-options.interface.js';

// Protocol core (framework-free)
export { signRequest, type SignRequestInput, type SignRequestOptions, type SigningCredential } from './protocol/request-signer.js';
export { RequestVerifier, type RequestVerifierOptions, type TrustPolicy } from './protocol/request-verifier.js';
export { buildSignatureBase, componentValue } from './protocol/signature-base.js';
export { parseSignatureFields, serializeSignatureParams, type ParsedSignature, type SignatureParameters } from './protocol/signature-fields.js';
export { createContentDigest, verifyContentDigest } from './protocol/content-digest.js';
export { httpMessage, type HttpMessage } from './protocol/http-message.js';
export { ServiceAuthError } from './protocol/service-auth.error.js';
export { REASON_STATUS, type ReasonCode } from './protocol/reason-codes.js';
export type { VerifiedCaller } from './protocol/verified-caller.js';

// Confidential bodies (framework-free)
export { encryptCompact, decryptCompact, type JweProtectedHeader, type DecryptedJwe } from './crypto/jwe-compact.js';
export { openResponse } from './crypto/open-response.js';
export { JWE_MEDIA_TYPE } from './crypto/jwe-media-type.js';

// Keys
export { KeyRing, type ResolvedKey } from './keys/key-ring.js';
export { EnvKeyProvider, parseKeyList, envName, type EnvKeyProviderOptions } from './keys/env-key-provider.js';
export { KeyConfigurationError } from './keys/key-configuration.error.js';
export { deriveKeys } from './keys/key-derivation.js';
export type { KeyProvider } from './keys/key-provider.interface.js';
export type { CallerDefinition, CredentialDefinition, KeyMaterial } from './keys/key-material.js';

// Replay protection
export type { NonceStore } from './replay/nonce-store.interface.js';
export { MemoryNonceStore, type MemoryNonceStoreOptions } from './replay/memory-nonce-store.js';
export { ReplayStoreUnavailableError } from './replay/replay-store-unavailable.error.js';
// ioredis (an optional peer) is loaded when a RedisNonceStore is created from a URL, not on import.
export { RedisNonceStore, type RedisNonceStoreOptions } from './replay/redis-nonce-store.js';

// Outgoing calls without Nest: what SignedHttpService does per attempt, and its resilience (framework-free)
export { prepareRequest, openAnswer, type PreparedRequest, type OutgoingCredential } from './client/outgoing-request.js';
export { UpstreamUnavailableError, isUpstreamUnavailableError, type UpstreamUnavailableReason } from './client/upstream-unavailable.error.js';
export { RetryPolicy, DEFAULT_RETRY_OPTIONS, RETRYABLE_STATUSES, parseRetryAfter, type RetryOptions, type RetryEvent } from './client/retry-policy.js';
export {
  UpstreamCircuitBreakers,
  DEFAULT_CIRCUIT_BREAKER_OPTIONS,
  upstreamOrigin,
  type CircuitBreakerOptions,
  type UpstreamCircuitState,
} from './client/upstream-circuit-breakers.js';
export { isUpstreamFailure, connectionFailureKind } from './client/upstream-failure.js';

// Metrics and health.
// Observability of ServiceAuthGuard's decisions (module option `metrics`): framework-free, and
// @opentelemetry/api (an optional peer) is loaded only for `metrics: true`, never on import; its
// Meter is accepted structurally (MetricsMeter), so these types never reference the package.
export type { VerificationObserver, VerificationEvent, RefusalEvent } from './metrics/verification-observer.js';
export {
  OpenTelemetryVerificationObserver,
  REQUESTS_METRIC,
  VERIFICATION_DURATION_METRIC,
  VERIFICATION_DURATION_BUCKETS,
  type VerificationOutcome,
  type MetricsMeter,
  type MetricAttributes,
  type InstrumentOptions,
} from './metrics/opentelemetry-verification-observer.js';
export { METER_NAME } from './metrics/opentelemetry-global-meter.js';
export type { VerificationMetricsOption } from './metrics/verification-metrics-option.js';
export { VERIFICATION_OBSERVER } from './nest/service-auth.constants.js';
// One-line structured log entries (what refusals are logged as).
export { LogLine } from './nest/log-line.js';
// For @nestjs/terminus (optional peer), which this file neither imports nor needs at type level.
export { ReplayStoreHealthIndicator, type ReplayStoreHealthResult } from './health/replay-store.health-indicator.js';
