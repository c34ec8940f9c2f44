import type { IncomingMessage } from 'node:http';
import { COVERED_MEMBERS } from '../verification/routing-inputs.js';
import { versionReadsFor, type VersionReads } from '../verification/version-reads.js';

/** A custom version extractor, as `VersioningType.CUSTOM` takes it. */
export type VersionExtractor = (request: unknown) => string | string[];

/**
 * The app's custom version extractor, made to record, on every request Nest calls it with, what it
 * reads of that request (VersionReads, left on Node's request for the guard). The guard then requires
 * the headers it read as covered components, so the handler Nest chose is the one the caller signed
 * for. Recording per request, rather than guessing at start-up, follows every path the extractor
 * takes: a header read for some URLs only, a fallback from one header to another, an enumeration.
 *
 * Nest calls it with Express' request (Node's request, with `get`/`header`) or, under Fastify, with
 * Node's request; both are handed to the extractor behind a recording view and are otherwise unchanged.
 */
export function recordingVersionExtractor(extractor: VersionExtractor): VersionExtractor {
  return (request: unknown) => {
    if (typeof request !== 'object' || request === null) return extractor(request);
    const node = request as IncomingMessage & { raw?: IncomingMessage };
    const reads = versionReadsFor(node.raw ?? node);
    return extractor(recordingRequest(request, reads));
  };
}

/** Members whose value is every header at once: reading one reads them all. */
const EVERY_HEADER_MEMBERS: ReadonlySet<string> = new Set(['rawHeaders', 'headersDistinct']);

/**
 * The request as the extractor sees it: `headers` (and Fastify's `raw.headers`) record each header
 * read; Express' `get` and `header` read through that view; the members a signature covers anyway
 * (method, URL, query) are read as they are; any other member is recorded as read, which the guard
 * refuses (the start-up check refuses extractors that read them on every request).
 */
function recordingRequest(request: object, reads: VersionReads): object {
  let headers: object | undefined;
  return new Proxy(request, {
    get(target, member, receiver) {
      if (typeof member !== 'string') return Reflect.get(target, member, target) as unknown;
      if (member === 'headers') {
        const value = Reflect.get(target, member, target) as unknown;
        if (typeof value !== 'object' || value === null) return value;
        return (headers ??= recordingHeaders(value, reads));
      }
      if (member === 'raw') {
        const value = Reflect.get(target, member, target) as unknown;
        return typeof value === 'object' && value !== null ? recordingRequest(value, reads) : value;
      }
      if (member === 'get' || member === 'header') {
        const value = Reflect.get(target, member, target) as unknown;
        // Called on the recording view, so that the `this.headers` they read is recorded.
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(receiver) : value;
      }
      if (EVERY_HEADER_MEMBERS.has(member)) reads.everyHeader();
      else if (!COVERED_MEMBERS.has(member) && member !== 'then' && member !== 'toJSON') reads.uncoveredMember(member);
      return Reflect.get(target, member, target) as unknown;
    },
  });
}

/**
 * Node's headers behind a view that records every name looked up (`headers[name]`, `name in headers`,
 * `Object.hasOwn(headers, name)`), and every enumeration (`Object.entries`, spreading, `for…in`) as a
 * read of every header. A name Node's headers object only inherits (`hasOwnProperty`, say) is a method
 * lookup, not a header read, unless the request carries a header of that name.
 */
function recordingHeaders(headers: object, reads: VersionReads): object {
  const recordLookup = (target: object, name: string | symbol) => {
    if (typeof name === 'string' && (Object.hasOwn(target, name) || !(name in target))) reads.header(name);
  };
  return new Proxy(headers, {
    get(target, name) {
      recordLookup(target, name);
      return Reflect.get(target, name, target) as unknown;
    },
    has(target, name) {
      recordLookup(target, name);
      return Reflect.has(target, name);
    },
    getOwnPropertyDescriptor(target, name) {
      recordLookup(target, name);
      return Reflect.getOwnPropertyDescriptor(target, name);
    },
    ownKeys(target) {
      reads.everyHeader();
      return Reflect.ownKeys(target);
    },
  });
}
