/**
 * `nest-service-auth/client`: calling other services with signed (and, if configured, encrypted)
 * requests from a Nest application.
 *
 *   imports: [ServiceAuthModule.forRoot({ serviceId, client: { … } }), SignedHttpModule]
 *   constructor(private readonly http: SignedHttpService) {}
 *
 * An entry of its own because it needs the peers @nestjs/axios and axios, which a service that is
 * only called never installs. Its settings are ServiceAuthModule's `client` options.
 */
export { SignedHttpModule } from './nest/signed-http.module.js';
export { SignedHttpService } from './nest/signed-http.service.js';
export { UpstreamUnavailableError, type UpstreamUnavailableReason } from './client/upstream-unavailable.error.js';
export {
  UpstreamAnswerRefusedError,
  type UpstreamAnswerRefusedReason,
  type UpstreamAnswerRefusedDetails,
} from './client/upstream-answer-refused.error.js';
export { OutgoingRequestRefusedError, type OutgoingRequestRefusedReason } from './client/outgoing-request-refused.error.js';
export { UpstreamNotConfiguredError } from './client/upstream-not-configured.error.js';
