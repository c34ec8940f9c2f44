import { describe, expect, it } from '@jest/globals';
import type { IncomingMessage } from 'node:http';
import { versionReadsOf } from '../verification/version-reads.js';
import { recordingVersionExtractor, type VersionExtractor } from './recording-version-extractor.js';

/** A request as Express hands it to the extractor: Node's request, with `get`. */
function request(headers: Record<string, string>, url = '/transfers'): IncomingMessage {
  return {
    url,
    method: 'POST',
    headers: { ...headers },
    rawHeaders: Object.entries(headers).flat(),
    socket: { remoteAddress: '10.0.0.1' },
    get(this: { headers: Record<string, string> }, name: string) {
      return this.headers[name.toLowerCase()];
    },
  } as unknown as IncomingMessage;
}

/** What the guard would require after the extractor ran on `req`: the headers, or the refusal's message. */
function required(extractor: VersionExtractor, req = request({ 'x-api-version': '2', 'x-fallback': '1' })): readonly string[] | string {
  recordingVersionExtractor(extractor)(req);
  try {
    return versionReadsOf(req)?.requiredComponents() ?? [];
  } catch (err) {
    return (err as Error).message;
  }
}

describe('recordingVersionExtractor: what an extractor read of each request', () => {
  it('records headers read by name, by get(), by `in` and by Object.hasOwn, lowercased', () => {
    type R = { headers: Record<string, string>; get(n: string): string };
    expect(required((r) => (r as R).headers['X-API-Version'] ?? '1')).toEqual(['x-api-version']);
    expect(required((r) => (r as R).get('X-Api-Version'))).toEqual(['x-api-version']);
    expect(required((r) => ('x-api-version' in (r as R).headers ? '2' : '1'))).toEqual(['x-api-version']);
    expect(required((r) => (Object.hasOwn((r as R).headers, 'x-v') ? '2' : '1'))).toEqual(['x-v']);
  });

  it('records a fallback from one header to the next, and only what this request made it read', () => {
    type R = { url: string; headers: Record<string, string | undefined> };
    const extractor = (r: unknown) =>
      (r as R).url === '/other' ? '1' : ((r as R).headers['x-missing'] ?? (r as R).headers['x-fallback'] ?? '1');
    expect(required(extractor)).toEqual(['x-missing', 'x-fallback']);
    expect(required(extractor, request({}, '/other'))).toEqual([]);
  });

  it('does not take a method the headers object inherits for a header', () => {
    // The call an extractor might make: the method is looked up on the headers, the name it checks is recorded.
    // eslint-disable-next-line no-prototype-builtins
    expect(required((r) => ((r as { headers: object }).headers.hasOwnProperty('x-v') ? '2' : '1'))).toEqual(['x-v']);
  });

  it('refuses an enumeration of the headers, or a read of rawHeaders: every header would have to be covered', () => {
    type R = { headers: Record<string, string>; rawHeaders: string[] };
    expect(required((r) => Object.keys((r as R).headers)[0])).toMatch(/every header/);
    expect(required((r) => ({ ...(r as R).headers })['x-api-version'])).toMatch(/every header/);
    expect(required((r) => (r as R).rawHeaders[1])).toMatch(/every header/);
  });

  it('refuses a read of a member no signature covers', () => {
    expect(required((r) => String((r as { socket: { remoteAddress: string } }).socket.remoteAddress))).toMatch(/request\.socket/);
  });

  it('returns what the extractor returns, and records nothing for a request it was not called with', () => {
    const req = request({ 'x-api-version': '2' });
    expect(recordingVersionExtractor((r) => (r as { headers: Record<string, string> }).headers['x-api-version'])(req)).toBe('2');
    expect(versionReadsOf(request({}))).toBeUndefined();
  });
});
