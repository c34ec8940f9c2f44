import { VERIFIED_CALLER_PROPERTY } from './service-auth.constants.js';
import { requestPath } from './request-message.js';

/**
 * The one log line of a refusal: reason, status, caller (if known), method and path. Never a
 * secret, the query, the body or the client address.
 */
export function rejectionLogEntry(req: any, reason: string, status: number, claimedCaller?: string): Record<string, unknown> {
  return {
    event: 'service_auth_rejected',
    reason,
    status,
    caller: req?.[VERIFIED_CALLER_PROPERTY]?.id ?? claimedCaller,
    method: req?.method,
    path: req ? requestPath(req) : undefined,
  };
}
