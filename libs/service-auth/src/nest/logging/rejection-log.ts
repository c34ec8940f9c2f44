import { LogLine } from './log-line.js';
import { VERIFIED_CALLER_PROPERTY } from '../options/service-auth.constants.js';
import { requestPath, type ServiceAuthRequest } from '../adapters/service-auth-request.js';

/** Logged paths are cut to this many characters: a path is the sender's, and can be as long as a request line. */
export const MAX_LOGGED_PATH_CHARS = 256;

/** The path, or its first MAX_LOGGED_PATH_CHARS characters and a marker saying how long it was. */
export function cutPath(path: string): string {
  if (path.length <= MAX_LOGGED_PATH_CHARS) return path;
  return `${path.slice(0, MAX_LOGGED_PATH_CHARS)}…(${path.length} chars cut to ${MAX_LOGGED_PATH_CHARS})`;
}

/**
 * The one log line of a refusal: reason, status, caller (if known), method and path, then `extra`
 * (a detail, a Retry-After). The path is cut to a fixed length (cutPath). Never a secret, the query, the body or the client address. A LogLine,
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
    path: req ? cutPath(requestPath(req)) : undefined,
    ...extra,
  });
}
