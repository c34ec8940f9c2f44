import type { IncomingHttpHeaders } from 'node:http';
import { parse as parseQueryString } from 'node:querystring';
import type { Readable } from 'node:stream';
import secureJsonParse from 'secure-json-parse';
import { JWE_MEDIA_TYPE } from '../../crypto/jwe-media-type.js';
import type { ServiceAuthException } from '../verification/service-auth.exception.js';
import { bodyRefusal, isContentEncoded } from './parser-refusals.js';

type ParserDone = (err: Error | null, body?: unknown) => void;

/** A Fastify request as a content-type parser receives it (fastify is the app's dependency, described here). */
interface ParsedRequest {
  readonly headers: IncomingHttpHeaders;
  rawBody?: Buffer;
}

type StreamParser = (request: ParsedRequest, payload: Readable, done: ParserDone) => void;

/** The parts of a Fastify instance used here. */
export interface FastifyParsersInstance {
  hasContentTypeParser(contentType: string): boolean;
  addContentTypeParser(contentType: string, parser: StreamParser): void;
  removeContentTypeParser(contentType: string): void;
}

/** The part of a Nest Fastify application used here (NestFastifyApplication.useBodyParser). */
export interface FastifyParsersApp {
  useBodyParser(type: string, options?: Record<string, unknown>, parser?: (req: unknown, body: Buffer, done: ParserDone) => void): unknown;
}

/** The content types Nest parses by default on Fastify: claimed through useBodyParser, so that Nest adds no parser of its own. */
const NEST_DEFAULT_TYPES = ['application/json', 'application/x-www-form-urlencoded'];

/**
 * Where bodies are parsed, on Fastify: the library's own content-type parsers, which read the
 * stream themselves, up to `maxBodyBytes`, keep the exact bytes as `rawBody` (what the signature
 * and the digest are checked against), and refuse with a ServiceAuthException carrying the reason
 * (body_too_large, body_malformed, content_encoding_unsupported, media_type_unsupported):
 * - application/json, parsed with secure-json-parse (a `__proto__` or `constructor.prototype` key is
 *   refused, as Fastify's own parser does);
 * - application/x-www-form-urlencoded (a `__proto__` key is refused);
 * - text/plain (a signed string body: Fastify's built-in parser keeps no bytes);
 * - application/jose (an encrypted body, kept as bytes, opened by the encrypted exchange);
 * - any other type, unless the app registered a catch-all parser: refused, 415 media_type_unsupported.
 * A type the app registers its own parser for later is the app's (Fastify's most specific parser wins).
 */
export function useFastifyBodyParsers(app: FastifyParsersApp, instance: FastifyParsersInstance, maxBodyBytes: number): void {
  const parse: Record<string, (bytes: Buffer) => unknown> = {
    'application/json': parseJson,
    'application/x-www-form-urlencoded': parseUrlencoded,
    'text/plain': (bytes) => bytes.toString('utf8'),
    [JWE_MEDIA_TYPE]: () => undefined,
  };
  for (const [type, parseBytes] of Object.entries(parse)) {
    if (NEST_DEFAULT_TYPES.includes(type)) {
      app.useBodyParser(type);
      instance.removeContentTypeParser(type);
    } else if (type !== 'text/plain' && instance.hasContentTypeParser(type)) continue;
    const parser: StreamParser = (request, payload, done) => {
      readBody(request, payload, maxBodyBytes).then(
        (bytes) => {
          request.rawBody = bytes;
          let body: unknown;
          try {
            body = parseBytes(bytes);
          } catch (err) {
            return done(err as Error);
          }
          done(null, body);
        },
        (err: Error) => done(err),
      );
    };
    try {
      instance.addContentTypeParser(type, parser);
    } catch (err) {
      // Fastify's built-in text/plain parser gives way; a text/plain parser the app added is the app's.
      if (type !== 'text/plain' || (err as { code?: unknown }).code !== 'FST_ERR_CTP_ALREADY_PRESENT') throw err;
    }
  }
  if (!instance.hasContentTypeParser('*')) {
    instance.addContentTypeParser('*', (_request, _payload, done) => done(bodyRefusal('media_type_unsupported')));
  }
}

/** The body's bytes, read up to `maxBytes`; a refusal when it is encoded, too large or cut short. */
function readBody(request: ParsedRequest, payload: Readable, maxBytes: number): Promise<Buffer> {
  const { headers } = request;
  if (isContentEncoded(headers)) return Promise.reject(bodyRefusal('content_encoding_unsupported'));
  const declared = headers['content-length'] === undefined ? undefined : Number(headers['content-length']);
  if (declared !== undefined && declared > maxBytes) return Promise.reject(tooLarge(maxBytes));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const fail = (err: ServiceAuthException) => {
      if (settled) return;
      settled = true;
      payload.removeAllListeners('data');
      payload.resume();
      reject(err);
    };
    payload.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) fail(tooLarge(maxBytes));
      else chunks.push(chunk);
    });
    payload.once('end', () => {
      if (settled) return;
      if (declared !== undefined && declared !== size)
        return fail(bodyRefusal('body_malformed', 'The request body is shorter than its Content-Length'));
      settled = true;
      resolve(Buffer.concat(chunks, size));
    });
    payload.once('error', () => fail(bodyRefusal('body_malformed', 'The request body could not be read')));
  });
}

function tooLarge(maxBytes: number): ServiceAuthException {
  return bodyRefusal('body_too_large', `The body exceeds ${maxBytes} bytes`);
}

function parseJson(bytes: Buffer): unknown {
  if (bytes.length === 0) throw bodyRefusal('body_malformed', 'The JSON body is empty');
  try {
    return secureJsonParse.parse(bytes.toString('utf8'), undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch {
    throw bodyRefusal('body_malformed', 'The request body is not valid JSON');
  }
}

function parseUrlencoded(bytes: Buffer): unknown {
  const parsed = parseQueryString(bytes.toString('utf8'));
  // A null-prototype object, where `__proto__` is an ordinary key: copied onto another object it would
  // replace that object's prototype. Refused, as Nest refuses it.
  if (Object.hasOwn(parsed, '__proto__')) throw bodyRefusal('body_malformed', 'The request body contains a forbidden prototype property');
  return parsed;
}
