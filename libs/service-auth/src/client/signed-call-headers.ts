import { MAX_COVERED_COMPONENTS, REQUIRED_COMPONENTS, BODY_COMPONENTS } from '../protocol/covered-components.js';
import { OutgoingRequestRefusedError } from './outgoing-request-refused.error.js';

/**
 * Headers of a call the signature leaves out. Every other header the application set is covered: a
 * callee may route or decide on any of them (a version header, `Accept` for media-type versioning,
 * a tenant), so none may be changed or stripped in transit. These are left out because something
 * between the two services legitimately changes them, and covering them would break honest calls:
 * - hop-by-hop headers (RFC 9110 §7.6.1): connection, keep-alive, proxy-connection, te, trailer,
 *   transfer-encoding, upgrade, and any header the Connection header names; a proxy removes or
 *   replaces them at every hop, and they say how bytes travel, not what the request means;
 * - proxy-authorization: a proxy consumes it;
 * - content-length: framing, set by Node's HTTP client from the bytes sent (and re-framed by proxies);
 *   the body itself is covered through content-digest;
 * - host: set from the URL by the HTTP client, often rewritten by proxies; covered as `@authority`
 *   when the coverAuthority option asks for it;
 * - the headers the signer writes itself (x-api-key, content-digest, signature-input, signature):
 *   whatever the call set for them is replaced, and the first two are covered anyway.
 */
const LEFT_OUT = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authorization',
  'content-length',
  'host',
  'x-api-key',
  'content-digest',
  'signature-input',
  'signature',
]);

/** Headers the Connection header names: hop-by-hop for this one connection. */
function namedByConnection(headers: Record<string, string>): Set<string> {
  return new Set((headers['connection'] ?? '').split(',').map((name) => name.trim().toLowerCase()));
}

/**
 * The components to cover beyond the protocol's minimum: every header of `headers` (lower-case names,
 * as sent) but those above, then `@authority` if asked. Refuses (before anything is signed or sent) a
 * call with more than a verifier accepts: it would be refused by every callee.
 */
export function signedCallComponents(headers: Record<string, string>, coverAuthority: boolean): string[] {
  const hopByHop = namedByConnection(headers);
  const components = Object.keys(headers).filter((name) => !LEFT_OUT.has(name) && !hopByHop.has(name));
  if (coverAuthority) components.push('@authority');
  const total = new Set<string>([...REQUIRED_COMPONENTS, ...BODY_COMPONENTS, ...components]).size;
  if (total > MAX_COVERED_COMPONENTS) {
    throw new OutgoingRequestRefusedError(
      'request_config_unsafe',
      `SignedHttpService: the call sets ${components.length} headers to sign; a verifier accepts at most ${MAX_COVERED_COMPONENTS} covered components in all; nothing was sent`,
      'headers',
    );
  }
  return components;
}
