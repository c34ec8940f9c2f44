/**
 * Raw HTTP for end-to-end tests: node:http with a literal request target (no URL normalisation, no
 * re-encoding), and helpers that sign a request as a given caller with the library's own signer.
 */
import { request, type IncomingHttpHeaders } from 'node:http';
import { deriveKeys, signRequest, type SignRequestOptions, type SigningCredential } from 'nest-service-auth/core';
import type { TestCredential } from './credentials.js';

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The parsed JSON body, or undefined when the body is not JSON. */
  json: any;
}

export interface RawRequest {
  method: string;
  /** Sent exactly as given, e.g. `/api/inventory/%50123?a=1`. */
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Give up (reject) when the connection is idle this long. Default 10 000 ms. */
  timeoutMs?: number;
  /** Source address to connect from, e.g. `127.0.0.2` (any 127.x.y.z reaches a server on 127.0.0.1 on Linux). */
  localAddress?: string;
}

/**
 * Sends one request on a fresh connection. The response is returned even when the server answers
 * before reading the whole body and resets the connection (413 on an oversized body).
 */
export function rawRequest(baseUrl: string, init: RawRequest): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  const body = init.body === undefined ? undefined : Buffer.isBuffer(init.body) ? init.body : Buffer.from(init.body, 'utf8');
  const headers: Record<string, string> = { connection: 'close', ...(init.headers ?? {}) };
  if (body && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length')) headers['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request({ host: hostname, port: Number(port), method: init.method, path: init.path, headers, agent: false, localAddress: init.localAddress }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: any;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    const timeoutMs = init.timeoutMs ?? 10_000;
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${init.method} ${init.path}: no answer within ${timeoutMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => {
      // EPIPE/ECONNRESET after the answer arrived: the server stopped reading an oversized body.
      if (!answered) reject(err);
    });
    req.end(body);
  });
}

/** What a caller signs with: the credential's id as keyid, its API key, and the HKDF-derived HMAC key. */
export function signingCredential(credential: TestCredential, overrides: Partial<SigningCredential> = {}): SigningCredential {
  return {
    id: credential.id,
    apiKey: credential.apiKey,
    hmacKey: deriveKeys(Buffer.from(credential.secret, 'base64url')).hmacKey,
    ...overrides,
  };
}

export interface SignedInit {
  method: string;
  /** The target that is SIGNED (path and query); `rawRequest` may then send another one. */
  path: string;
  body?: string | Buffer;
  /** Default `application/json` when there is a body. */
  contentType?: string;
  headers?: Record<string, string>;
}

/**
 * The full header set of a correctly signed request: the caller's own headers plus X-API-Key,
 * Content-Digest, Signature-Input and Signature, exactly as signRequest produced them.
 */
export function signedHeaders(
  baseUrl: string,
  credential: SigningCredential,
  init: SignedInit,
  options?: SignRequestOptions,
): Record<string, string> {
  const body = init.body === undefined ? undefined : Buffer.isBuffer(init.body) ? init.body : Buffer.from(init.body, 'utf8');
  const headers: Record<string, string> = { ...(init.headers ?? {}) };
  if (body && body.length > 0) headers['content-type'] = init.contentType ?? 'application/json';
  const added = signRequest({ method: init.method, url: new URL(init.path, baseUrl), headers, body }, credential, options);
  return { ...headers, ...added };
}

/** The base64 value inside `label=:…:` of a Signature header. */
export function signatureValue(headers: Record<string, string>): string {
  const match = /=:([^:]+):/.exec(headers['signature'] ?? '');
  if (!match) throw new Error(`no signature in ${headers['signature']}`);
  return match[1];
}
