import { describe, expect, it } from '@jest/globals';
import { VersioningType } from '@nestjs/common';
import { routingComponents } from './routing-inputs.js';

/** A request as an extractor sees it: what these extractors read, loosely typed as an application's would be. */
interface AnyRequest {
  headers: Record<string, string | undefined>;
  url?: string;
  get?(name: string): string | undefined;
  raw?: { headers: Record<string, string | undefined> };
  cookies?: Record<string, string>;
  body?: { version?: string };
}

describe('routingComponents', () => {
  it('needs nothing more without versioning or host-scoped controllers, nor with URI versioning', () => {
    expect(routingComponents(undefined, false)).toEqual([]);
    expect(routingComponents({ type: VersioningType.URI }, false)).toEqual([]);
  });

  it('header versioning: the version header, lowercased', () => {
    expect(routingComponents({ type: VersioningType.HEADER, header: 'X-API-Version' }, false)).toEqual(['x-api-version']);
  });

  it('media-type versioning: accept', () => {
    expect(routingComponents({ type: VersioningType.MEDIA_TYPE, key: 'v=' }, false)).toEqual(['accept']);
  });

  it('host-scoped controllers: @authority', () => {
    expect(routingComponents({ type: VersioningType.HEADER, header: 'X-V' }, true)).toEqual(['@authority', 'x-v']);
  });

  it('a custom extractor: every header it reads, through headers[], get() or Fastify raw.headers', () => {
    const extractor = (request: unknown) => {
      const req = request as AnyRequest;
      return req.headers['X-Tenant-Version'] ?? req.get?.('x-fallback-version') ?? req.raw?.headers['x-raw-version'] ?? '1';
    };
    expect(routingComponents({ type: VersioningType.CUSTOM, extractor }, false).sort()).toEqual([
      'x-fallback-version',
      'x-raw-version',
      'x-tenant-version',
    ]);
  });

  it('a custom extractor that reads the URL needs nothing more: @path and @query are covered', () => {
    const extractor = (request: unknown) => {
      const req = request as AnyRequest;
      return /\/v(\d+)\//.exec(req.url ?? '')?.[1] ?? '1';
    };
    expect(routingComponents({ type: VersioningType.CUSTOM, extractor }, false)).toEqual([]);
  });

  it('a custom extractor that reads what no signature covers is a start-up error naming it', () => {
    const extractor = (request: unknown) => {
      const req = request as AnyRequest;
      return req.cookies?.version ?? req.body?.version ?? '1';
    };
    expect(() => routingComponents({ type: VersioningType.CUSTOM, extractor }, false)).toThrow(
      /reads request\.cookies, request\.body, which a signature cannot cover/,
    );
  });

  it('a custom extractor that throws on a request without headers: what it read before counts', () => {
    const extractor = (request: unknown) => {
      const req = request as AnyRequest;
      return (req.headers['x-version'] as string).split('.')[0];
    };
    expect(routingComponents({ type: VersioningType.CUSTOM, extractor }, false)).toEqual(['x-version']);
  });
});
