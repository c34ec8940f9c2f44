import type { IncomingMessage } from 'node:http';
import { ServiceAuthError } from '../../errors/service-auth.error.js';
import { nodeRequest, type ServiceAuthRequest } from './service-auth-request.js';

const EMPTY = Buffer.alloc(0);

/** Whether the request announces a body (Content-Length above zero, or chunked). */
export function declaresBody(raw: IncomingMessage): boolean {
  const length = raw.headers['content-length'];
  return raw.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function readStream(raw: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const fail = (err: Error) => {
      raw.removeAllListeners('data');
      raw.resume();
      reject(err);
    };
    raw.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) fail(new ServiceAuthError('body_too_large', `The body exceeds ${maxBytes} bytes`));
      else chunks.push(chunk);
    });
    raw.once('end', () => resolve(Buffer.concat(chunks, size)));
    raw.once('error', () => reject(new ServiceAuthError('body_malformed', 'The request body could not be read')));
  });
}

/**
 * The exact bytes of the request body, as received. Never a re-serialised parsed body: a parser
 * may reorder keys or change whitespace, and the signature is over the bytes.
 *
 * - `req.rawBody` when the framework kept it (NestFactory.create(App, { rawBody: true }));
 * - on Express, a body no parser claimed (e.g. application/jose) is still unread: read it here;
 * - a body that was parsed without keeping its bytes is a configuration error, reported as such
 *   rather than as a misleading signature failure.
 */
export async function readRawBody(req: ServiceAuthRequest, maxBytes: number): Promise<Buffer> {
  return rawBodyNow(req, maxBytes);
}

/**
 * As readRawBody, but without a promise when the bytes are at hand (kept by the framework, or no body
 * at all), which is the usual case: a promise only when the body must still be read from the stream.
 */
export function rawBodyNow(req: ServiceAuthRequest, maxBytes: number): Buffer | Promise<Buffer> {
  const raw = nodeRequest(req);
  const length = Number(raw.headers['content-length'] ?? 0);
  if (length > maxBytes) throw new ServiceAuthError('body_too_large', `The body exceeds ${maxBytes} bytes`);
  if (Buffer.isBuffer(req.rawBody)) {
    if (req.rawBody.length > maxBytes) throw new ServiceAuthError('body_too_large', `The body exceeds ${maxBytes} bytes`);
    return req.rawBody;
  }
  if (!declaresBody(raw)) return EMPTY;
  // Express body parsers set `_body` once they have consumed the stream.
  const parsed = '_body' in req && req._body === true;
  if (raw.readable && !raw.readableEnded && !parsed) {
    return readStream(raw, maxBytes).then((body) => {
      req.rawBody = body;
      return body;
    });
  }
  throw new ServiceAuthError(
    'raw_body_unavailable',
    'The server cannot verify request bodies: it is misconfigured',
    'The request body was parsed but its raw bytes were not kept. Create the app with ' +
      'NestFactory.create(AppModule, { rawBody: true }) (Express and Fastify alike), and make sure no custom body parser runs without keeping rawBody.',
  );
}
