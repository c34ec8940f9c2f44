import { ServiceAuthError } from '../errors/service-auth.error.js';

/**
 * Which request targets a verifier accepts (PROTOCOL.md §2.2).
 *
 * `@path` and `@query` are required components, and together they are the whole target only when
 * the target is origin-form (`/path?query`) without a fragment. Then every byte a router or a body
 * of application code reads from the target was signed, however it splits or normalises it. The
 * other forms leave bytes out of the signature (a fragment, the scheme and authority of
 * absolute-form) that routers still read: Fastify takes `/echo/1#&role=admin` as the query
 * `role=admin` of a request signed for `/echo/1`.
 *
 * The path must also avoid what common URL parsers resolve differently from a router, so that no
 * middleware or handler can act on another path than the one signed: backslashes (WHATWG URL reads
 * `\` as `/`), empty segments (`//`, merged by some routers and proxies, a host after WHATWG URL
 * when leading), dot segments (`.`/`..`, percent-encoded too, resolved by URL parsers and path
 * helpers) and broken percent-escapes. Legitimate clients never send them: URL libraries remove dot
 * segments and encode the rest. Percent-encoded slashes (`%2F`) remain allowed: they are signed as
 * sent and decode to data inside one segment.
 */
export function checkRequestTarget(target: string): void {
  if (target.charCodeAt(0) !== 0x2f /* / */) invalid('The request target must be a path starting with "/" (origin-form)');
  const queryStart = target.indexOf('?');
  const pathEnd = queryStart < 0 ? target.length : queryStart;
  let segmentStart = 1;
  for (let i = 1; i <= target.length; i++) {
    const c = i < target.length ? target.charCodeAt(i) : -1;
    // Visible ASCII only: anything else is not a valid target byte, and HTTP parsers that let it
    // through disagree on its encoding (the signature base is UTF-8, the request line Latin-1).
    if (c !== -1 && (c < 0x21 || c > 0x7e)) invalid('The request target must be visible ASCII (percent-encode anything else)');
    if (c === 0x23 /* # */) invalid('The request target must not contain a fragment (#)');
    if (i > pathEnd) continue;
    if (c === 0x5c /* \ */) invalid('The request path must not contain a backslash');
    if (c === 0x25 /* % */ && !(isHex(target.charCodeAt(i + 1)) && isHex(target.charCodeAt(i + 2)))) {
      invalid('The request path has a malformed percent-escape');
    }
    if (c === 0x2f /* / */ || i === pathEnd) {
      const length = i - segmentStart;
      if (length === 0 && c === 0x2f) invalid('The request path must not contain an empty segment (//)');
      if (length > 0 && length <= 6 && isDotSegment(target.slice(segmentStart, i))) {
        invalid('The request path must not contain "." or ".." segments');
      }
      segmentStart = i + 1;
    }
  }
}

/**
 * The URL the router matched (`routed`) must be the target received. Anything else means that code
 * rewrote the URL between the wire and the router (an `X-Original-URL` style rewrite, driven by an
 * unsigned header), and the handler would serve a target the signature does not cover.
 *
 * The one rewrite allowed is the framework's own for an application mounted under a path of another
 * (Express' `app.use('/api', nested)`): `mountPoint` is what the framework says it removed from the
 * front (Express' `req.baseUrl`), and the routed URL must be exactly the rest, with the "/" Express
 * puts in front of an empty rest (`/api?x=1` is routed as `/?x=1`). The mount point is never inferred
 * from the two URLs: a suffix of the target is also the URL of another handler (`/files/echo/7` ends
 * with `/echo/7`), and where nothing is mounted (Fastify never mounts) the two must be equal.
 */
export function checkRoutedTarget(received: string, routed: string | undefined, mountPoint = ''): void {
  if (routed === undefined || mountPoint + routed === received) return;
  const emptyRest = mountPoint !== '' && (routed === '/' || routed.startsWith('/?')) && mountPoint + routed.slice(1) === received;
  // The log gets the routed path, never its query (queries can carry data that does not belong in logs).
  if (!emptyRest) invalid('The request was routed on another target than the one received', `routed path=${routed.split('?')[0]}`);
}

/**
 * The host a router chose a handler by (Nest's host-scoped controllers) must be the host of the
 * authority received, the one `@authority` signs. Routers that trust a proxy take the host from
 * `X-Forwarded-Host` instead (Express' `req.hostname` under `trust proxy`, Fastify's under
 * `trustProxy`), which no signature covers: a request signed for one host would run the controller
 * of another. `routedHostname` is the router's host without its port, as both frameworks give it.
 */
export function checkRoutedHost(authority: string | undefined, routedHostname: string): void {
  if (hostnameOf(authority ?? '') === routedHostname.toLowerCase()) return;
  invalid('The request was routed on another host than the one it was sent to', `routed host=${routedHostname.slice(0, 255)}`);
}

/** The host of an authority without its port, IPv6 literals in their brackets, lowercase. */
function hostnameOf(authority: string): string {
  const end = authority.indexOf(':', authority.charCodeAt(0) === 0x5b /* [ */ ? authority.indexOf(']') + 1 : 0);
  return (end < 0 ? authority : authority.slice(0, end)).toLowerCase();
}

/** `.` and `..`, also when one or both dots are percent-encoded (`%2e`, `%2E`), as URL parsers read them. */
function isDotSegment(segment: string): boolean {
  // Most segments are words: only one that starts with "." or "%" can be a dot segment.
  const first = segment.charCodeAt(0);
  if (first !== 0x2e && first !== 0x25) return false;
  const decoded = segment.replace(/%2e/gi, '.');
  return decoded === '.' || decoded === '..';
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

function invalid(message: string, detail?: string): never {
  throw new ServiceAuthError('request_target_invalid', message, detail);
}
