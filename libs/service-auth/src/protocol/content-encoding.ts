import { ServiceAuthError } from '../errors/service-auth.error.js';

/**
 * Request bodies travel without a content coding (PROTOCOL.md §2.2). The signature and the digest
 * cover the bytes on the wire; a server that inflates a compressed body would have to choose between
 * checking the digest over the compressed bytes (what was signed) and handing the handler the
 * inflated ones, and body parsers differ in whether and when they inflate (Express inflates gzip
 * before any guard runs, Fastify never does). Refusing encoded bodies keeps one meaning for "the
 * body" everywhere, and means nothing is ever decompressed for an unauthenticated caller.
 *
 * Accepted: no header, an empty one, or `identity` (content codings are case-insensitive).
 */
export function checkContentEncoding(value: string | undefined): void {
  if (value === undefined) return;
  const coding = value.trim().toLowerCase();
  if (coding === '' || coding === 'identity') return;
  throw new ServiceAuthError(
    'content_encoding_unsupported',
    'Request bodies must be sent without a content coding (no Content-Encoding, or identity)',
    `content-encoding=${JSON.stringify(value.slice(0, 40))}`,
  );
}
