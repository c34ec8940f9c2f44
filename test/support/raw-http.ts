/**
 * Raw HTTP for end-to-end tests: node:http with a literal request target (no URL normalisation, no
 * re-encoding), and helpers that sign a request as a given caller with the library's own signer.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { request, type IncomingHttpHeaders } from 'node:http';
import {
  createContentDigest,
  deriveKeys,
  httpMessage,
  signRequest,
  type SignRequestOptions,
  type HmacSigningCredential,
  type SigningCredential,
} from 'nest-service-auth/core';
import { buildSignatureBase } from '../../libs/service-auth/src/protocol/signature-base.js';
import { serializeSignatureParams } from '../../libs/service-auth/src/protocol/signature-fields.js';
import type { TestCredential } from './credentials.js';

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /**
   * The parsed JSON body, or undefined when the body is not JSON. Unknown until narrowed: compare it
   * whole (`toEqual`), or read it with jsonObject, jsonField, numberField or reasonOf.
   */
  json: unknown;
}

/** The JSON body as an object; throws (failing the test) when it is not one: no JSON, an array, a scalar. */
export function jsonObject(res: Pick<RawResponse, 'json' | 'status' | 'text'>): Record<string, unknown> {
  const json = res.json;
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new Error(`expected a JSON object, got ${res.status} ${res.text.slice(0, 200)}`);
  }
  return json as Record<string, unknown>;
}

/** One member of the JSON body; undefined when the body is not a JSON object or has no such member. */
export function jsonField(res: Pick<RawResponse, 'json'>, name: string): unknown {
  const json = res.json;
  return typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>)[name] : undefined;
}

/** A refusal's reason code: `reason` in its JSON body when that is a string, else undefined. */
export function reasonOf(res: Pick<RawResponse, 'json'>): string | undefined {
  const reason = jsonField(res, 'reason');
  return typeof reason === 'string' ? reason : undefined;
}

/** A numeric member of the JSON body (a stock, a new stock); throws (failing the test) when it is not a number. */
export function numberField(res: Pick<RawResponse, 'json' | 'status' | 'text'>, name: string): number {
  const value = jsonObject(res)[name];
  if (typeof value !== 'number') throw new Error(`expected a number in "${name}", got ${res.status} ${res.text.slice(0, 200)}`);
  return value;
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
 * The 5xx answers the services document: a dependency of the check is down (503), the upstream failed
 * (502/503 from order-service), a configuration error (500 raw_body_unavailable), or terminus' health
 * body. Any other 5xx is a crash, and fails the test that received it, whatever it asserts.
 */
const DOCUMENTED_SERVER_REASONS = new Set([
  'raw_body_unavailable',
  'replay_store_unavailable',
  'rate_limit_unavailable',
  'upstream_unavailable',
  'upstream_error',
  'upstream_rejected_credentials',
  'upstream_redirect',
  'upstream_response_too_large',
  'order_not_sent',
]);

function isDocumentedServerError(json: unknown): boolean {
  if (typeof json !== 'object' || json === null) return false;
  const body = json as { reason?: unknown; status?: unknown; error?: unknown };
  if (typeof body.reason === 'string') return DOCUMENTED_SERVER_REASONS.has(body.reason);
  return body.status === 'error' && typeof body.error === 'object'; // @nestjs/terminus: a check is down
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
    const req = request(
      { host: hostname, port: Number(port), method: init.method, path: init.path, headers, agent: false, localAddress: init.localAddress },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          const status = res.statusCode ?? 0;
          if (status >= 500 && !isDocumentedServerError(json)) {
            reject(new Error(`${init.method} ${init.path}: undocumented ${status} (a crash, not a refusal): ${text.slice(0, 200)}`));
            return;
          }
          resolve({ status, headers: res.headers, text, json });
        });
      },
    );
    const timeoutMs = init.timeoutMs ?? 10_000;
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${init.method} ${init.path}: no answer within ${timeoutMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => {
      // EPIPE/ECONNRESET after the answer arrived: the server stopped reading an oversized body.
      if (!answered) reject(err);
    });
    req.end(body);
  });
}

/**
 * What a caller signs with: the credential's id as keyid, its API key, the HKDF-derived HMAC key, and
 * the callee it is for (inventory-service unless overridden).
 */
export function signingCredential(credential: TestCredential, overrides: Partial<HmacSigningCredential> = {}): HmacSigningCredential {
  return {
    id: credential.id,
    apiKey: credential.apiKey,
    hmacKey: deriveKeys(Buffer.from(credential.secret, 'base64url')).hmacKey,
    audience: 'inventory-service',
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

export interface TargetInit {
  method: string;
  /** The request target exactly as it goes on the wire, e.g. `/echo/a%2Fb?x=1` (never normalised). */
  target: string;
  body?: string | Buffer;
  /** Default `application/json` when there is a body. */
  contentType?: string;
  /**
   * Further headers, lowercase names; `idempotency-key` and `content-encoding` are covered when
   * present. A `content-digest` given here is sent (and signed) instead of the body's own.
   */
  headers?: Record<string, string>;
  /** Further components to cover, after the protocol's own. */
  components?: string[];
}

/**
 * Headers of a request signed for a literal target: `@path` and `@query` are taken from `target`
 * as it is written, with no URL parser in between (signRequest goes through WHATWG URL, which would
 * normalise dot segments and backslashes and percent-encode non-ASCII). Used to sign exactly the
 * hostile targets a test then sends.
 */
export function signedHeadersForTarget(credential: HmacSigningCredential, init: TargetInit): Record<string, string> {
  const body = init.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(init.body) ? init.body : Buffer.from(init.body, 'utf8');
  const headers: Record<string, string> = { ...(init.headers ?? {}), 'x-api-key': credential.apiKey };
  const components = ['@method', '@path', '@query', 'x-api-key'];
  if (body.length > 0) {
    headers['content-type'] = init.contentType ?? 'application/json';
    headers['content-digest'] ??= createContentDigest(body);
    components.push('content-type', 'content-digest');
  }
  for (const name of ['idempotency-key', 'content-encoding']) if (Object.hasOwn(headers, name)) components.push(name);
  components.push(...(init.components ?? []));
  const params = serializeSignatureParams(components, {
    created: Math.floor(Date.now() / 1000),
    nonce: randomBytes(16).toString('base64url'),
    keyid: credential.id,
    alg: 'hmac-sha256',
    tag: credential.audience,
  });
  const base = buildSignatureBase(httpMessage({ method: init.method, target: init.target, headers }), components, params);
  const signature = createHmac('sha256', credential.hmacKey).update(base).digest('base64');
  return { ...headers, 'signature-input': `sig1=${params}`, signature: `sig1=:${signature}:` };
}
