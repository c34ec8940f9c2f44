import { VersioningType, type VersioningOptions } from '@nestjs/common';
import { KeyConfigurationError } from '../../errors/key-configuration.error.js';

/**
 * The covered components a signature must include because Nest chooses a handler by them, beyond
 * the method and the target that every signature covers: otherwise a request signed for one handler
 * could be sent, unchanged but for that input, to another (signed for `X-API-Version: 2`, sent with
 * `1`), and its signature, nonce and audience would all still hold.
 *
 * - header versioning: the version header;
 * - media-type versioning: `accept`;
 * - a custom extractor: the headers it reads when called once with a request that records what is
 *   read; reading anything a signature cannot cover is a start-up error. That one call cannot see
 *   every path an extractor takes (a header read for some URLs only, an enumeration of the headers),
 *   so ServiceAuthModule.setup also records what it reads on each request, and the guard requires
 *   that too (recordingVersionExtractor, VersionReads);
 * - URI versioning: nothing more (`@path` is covered);
 * - host-scoped controllers (`@Controller({ host })`): `@authority`. A proxy that rewrites `Host`
 *   breaks such signatures: callers must sign the authority the callee receives.
 */
export function routingComponents(versioning: VersioningOptions | undefined, hostScoped: boolean): string[] {
  const components = new Set<string>();
  if (hostScoped) components.add('@authority');
  switch (versioning?.type) {
    case VersioningType.HEADER:
      components.add(versioning.header.toLowerCase());
      break;
    case VersioningType.MEDIA_TYPE:
      components.add('accept');
      break;
    case VersioningType.CUSTOM:
      for (const header of headersReadBy(versioning.extractor)) components.add(header);
      break;
  }
  return [...components];
}

/** Members of a request that carry no more than what `@method`, `@path` and `@query` cover. */
export const COVERED_MEMBERS: ReadonlySet<string> = new Set(['method', 'url', 'originalUrl', 'path', 'query', 'params', 'routeOptions']);

/**
 * The header names a custom version extractor reads, by calling it on a request that records every
 * read: `headers[name]`, `get(name)` and `header(name)` (Express), `raw.headers[name]` (Fastify).
 * Headers are absent, so an extractor that falls back from one header to another reads them all.
 */
function headersReadBy(extractor: (request: unknown) => unknown): string[] {
  const headers = new Set<string>();
  const uncovered = new Set<string>();
  const headerRecorder = new Proxy(Object.create(null) as object, {
    get: (_target, name) => {
      if (typeof name === 'string') headers.add(name.toLowerCase());
      return undefined;
    },
    has: (_target, name) => {
      if (typeof name === 'string') headers.add(name.toLowerCase());
      return false;
    },
  });
  const readHeader = (name: unknown) => {
    if (typeof name === 'string') headers.add(name.toLowerCase());
    return undefined;
  };
  const request = new Proxy(Object.create(null) as object, {
    get: (_target, member) => {
      if (typeof member !== 'string') return undefined;
      if (member === 'headers') return headerRecorder;
      if (member === 'raw') return { headers: headerRecorder };
      if (member === 'get' || member === 'header') return readHeader;
      if (member === 'url' || member === 'originalUrl' || member === 'path') return '/';
      if (member === 'method') return 'GET';
      if (!COVERED_MEMBERS.has(member) && member !== 'then' && member !== 'toJSON') uncovered.add(member);
      return undefined;
    },
  });
  try {
    extractor(request);
  } catch {
    // What it read before throwing is known; an extractor that fails on a request without headers
    // would fail on such a request in production as well.
  }
  if (uncovered.size > 0) {
    throw new KeyConfigurationError(
      `ServiceAuthModule: the custom version extractor reads request.${[...uncovered].join(', request.')}, which a signature cannot cover, ` +
        'so a signed request could be sent to another version of a handler. Choose the version from a header, the Accept header or the URL.',
    );
  }
  return [...headers];
}
