import { LogLine } from './log-line.js';
import { VERIFIED_CALLER_PROPERTY } from './service-auth.constants.js';
import { requestPath, type ServiceAuthRequest } from './service-auth-request.js';

/**
 * The one log line of a refusal: reason, status, caller (if known), method and path, then `extra`
 * (a detail, a Retry-After). Never a secret, the query, the body or the client address. A LogLine,
 * so that it stays one line whatever the application's logger (see LogLine).
 */
export function rejectionLogEntry(
  req: ServiceAuthRequest | undefined,
  reason: string,
  status: number,
  claimedCaller?: string,
  extra?: Record<string, unknown>,
): LogLine {
  return new LogLine({
    event: 'service_auth_rejected',
    reason,
    status,
    caller: req?.[VERIFIED_CALLER_PROPERTY]?.id ?? claimedCaller,
    method: req?.method,
    path: req ? requestPath(req) : undefined,
    ...extra,
  });
}
