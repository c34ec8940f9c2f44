import { ServiceAuthError } from '../errors/service-auth.error.js';
import { isWellFormedText } from './well-formed-text.js';

/**
 * A message pattern as Nest routes it, and as the signature covers it.
 *
 * Nest turns a pattern into its route string before sending it: a string or a number as it is, an
 * object as JSON with its keys sorted (recursively). The signer must sign that same string, which is
 * what the server's transport context reports as the routed pattern.
 */
export function patternRoute(pattern: unknown): string {
  if (typeof pattern === 'string') return pattern;
  if (typeof pattern === 'number') return `${pattern}`;
  if (typeof pattern !== 'object' || pattern === null) return String(pattern);
  const record = pattern as Record<string, unknown>;
  const parts = Object.keys(record)
    .sort((a, b) => a.localeCompare(b))
    .map((key) => {
      const value = record[key];
      const route = typeof value === 'string' ? `"${escapeQuotes(value)}"` : patternRoute(value);
      return `"${escapeQuotes(key)}":${route}`;
    });
  return `{${parts.join(',')}}`;
}

function escapeQuotes(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

/**
 * The `@path` a message is signed under: `/` and its pattern's route, percent-encoded as one segment
 * (encodeURIComponent), so that any pattern is a valid origin-form target. `@query` is always `?`.
 * A route that is not well-formed text (a lone surrogate) has no encoding (encodeURIComponent would
 * throw a URIError): it is refused with a stable reason, as a message that cannot be checked.
 */
export function messageTarget(route: string): string {
  if (!isWellFormedText(route)) {
    throw new ServiceAuthError(
      'context_unsupported',
      'The message pattern is not well-formed text (it has a lone surrogate): it cannot be signed or checked',
    );
  }
  return `/${encodeURIComponent(route)}`;
}
