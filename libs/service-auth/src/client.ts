/**
 * `nest-service-auth/client`: calling other services with signed (and, if configured, encrypted)
 * requests from a Nest application.
 *
 *   imports: [SignedHttpModule.register({ serviceId: 'order-service', encrypt: ['inventory-service'] })]
 *   constructor(private readonly http: SignedHttpService) {}
 *
 * An entry of its own because it needs the peer axios, which a service that is only called never
 * installs. A service that only calls others registers nothing else.
 */
export { SignedHttpModule } from './nest/client/signed-http.module.js';
export { SignedHttpService } from './nest/client/signed-http.service.js';
export type { SignedHttpModuleOptions, SignedHttpClientOptions } from './client/signed-http-options.js';
export type { RetryOptions } from './client/retry-options.js';
export type { CircuitBreakerOptions } from './client/circuit-breaker-options.js';
export { UpstreamUnavailableError, type UpstreamUnavailableReason } from './client/upstream-unavailable.error.js';
export {
  UpstreamAnswerRefusedError,
  type UpstreamAnswerRefusedReason,
  type UpstreamAnswerRefusedDetails,
} from './client/upstream-answer-refused.error.js';
export { OutgoingRequestRefusedError, type OutgoingRequestRefusedReason } from './client/outgoing-request-refused.error.js';
export { UpstreamHttpError, isUpstreamHttpError, type UpstreamCallContext } from './client/upstream-http.error.js';
export { UpstreamNotConfiguredError } from './client/upstream-not-configured.error.js';
