import { hash, timingSafeEqual } from 'node:crypto';
import { isInnerList, parseDictionary } from 'structured-headers';
import { ServiceAuthError } from '../errors/service-auth.error.js';

/** RFC 9530 algorithms this implementation computes, with their digest length in bytes. */
const ALGORITHMS = { 'sha-256': { node: 'sha256', length: 32 }, 'sha-512': { node: 'sha512', length: 64 } } as const;
export type DigestAlgorithm = keyof typeof ALGORITHMS;

const SHA256_PREFIX = 'sha-256=:';
/** `sha-256=:` + 44 characters of padded base64 + `:` */
const SHA256_HEADER_LENGTH = SHA256_PREFIX.length + 44 + 1;

/** `Content-Digest` value over the exact body bytes, e.g. `sha-256=:X48E9q…:`. */
export function createContentDigest(body: Uint8Array, algorithm: DigestAlgorithm = 'sha-256'): string {
  const digest = hash(ALGORITHMS[algorithm].node, body, 'base64');
  return `${algorithm}=:${digest}:`;
}

/**
 * Recomputes the digest over the bytes received and compares it with the header.
 * Every supported algorithm present must match; unknown algorithms are ignored (RFC 9530 §2), but at
 * least one supported one is required, so a header naming only unknown algorithms proves nothing.
 */
export function verifyContentDigest(header: string | undefined, body: Uint8Array): void {
  if (header === undefined) throw new ServiceAuthError('digest_missing', 'A request body requires a Content-Digest header');
  // What signers send: one sha-256 member, as createContentDigest writes it. Equal text means equal
  // bytes; any other text (another form of the same digest included) goes through the full check.
  // The digest is public (anyone holding the body can compute it), so comparing text is safe here.
  if (header.length === SHA256_HEADER_LENGTH && header.startsWith(SHA256_PREFIX) && header.charCodeAt(SHA256_HEADER_LENGTH - 1) === 0x3a) {
    if (header.slice(SHA256_PREFIX.length, -1) === hash('sha256', body, 'base64')) return;
  }
  let dictionary;
  try {
    dictionary = parseDictionary(header);
  } catch {
    throw new ServiceAuthError('digest_malformed', 'Content-Digest is not a valid structured dictionary');
  }
  let checked = 0;
  for (const [name, member] of dictionary) {
    // Own properties only: a member named e.g. `constructor` must not resolve to Object.prototype's.
    if (!Object.hasOwn(ALGORITHMS, name)) continue;
    const algorithm = ALGORITHMS[name as DigestAlgorithm];
    const value = isInnerList(member) || !(member[0] instanceof ArrayBuffer) ? undefined : Buffer.from(member[0]);
    if (value === undefined || value.length !== algorithm.length) {
      throw new ServiceAuthError('digest_malformed', `Content-Digest ${name} must be a ${algorithm.length}-byte byte sequence`);
    }
    const actual = hash(algorithm.node, body, 'buffer') as unknown as Buffer;
    if (!timingSafeEqual(actual, value)) {
      throw new ServiceAuthError('digest_mismatch', 'The body does not match its Content-Digest');
    }
    checked++;
  }
  if (checked === 0) throw new ServiceAuthError('digest_malformed', 'Content-Digest names no supported algorithm (sha-256, sha-512)');
}
