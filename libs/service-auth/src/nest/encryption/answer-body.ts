import { Buffer } from 'node:buffer';

/** An answer as it will go on the wire: the body Nest is handed, and the Content-Type it goes with. */
export interface AnswerBody {
  /** Handed to Nest in place of what the handler returned; undefined for an answer without a body. */
  readonly body: string | Buffer | undefined;
  /** The exact bytes Express and Fastify send for `body`. */
  readonly bytes: Buffer;
  /** The Content-Type to send (already set by the handler, or the one Nest would choose); undefined for no body. */
  readonly contentType: string | undefined;
}

/**
 * Serialises a handler's answer the way Nest would, but here, so that the bytes that are signed are
 * the bytes sent: an object as JSON, a string as text, a Buffer as it is, nothing as no body. A
 * Content-Type the handler set (`@Header()`) is kept. Undefined for what has no fixed bytes (a
 * stream, a StreamableFile): such an answer goes out unsigned.
 */
export function answerBody(data: unknown, contentTypeSet: string | undefined): AnswerBody | undefined {
  if (data === undefined || data === null) return { body: undefined, bytes: Buffer.alloc(0), contentType: contentTypeSet };
  if (Buffer.isBuffer(data)) return { body: data, bytes: data, contentType: contentTypeSet ?? 'application/octet-stream' };
  if (typeof data === 'string') {
    return { body: data, bytes: Buffer.from(data, 'utf8'), contentType: withCharset(contentTypeSet ?? 'text/plain') };
  }
  if (typeof data === 'object' && !isPlainData(data)) return undefined;
  const json = JSON.stringify(data);
  return { body: json, bytes: Buffer.from(json, 'utf8'), contentType: withCharset(contentTypeSet ?? 'application/json') };
}

/**
 * A text answer's Content-Type with its charset, as Express writes it for a string body (Fastify
 * sends what it is given): set before the answer is signed, so the type signed is the type sent.
 */
export function withCharset(contentType: string): string {
  return /;\s*charset=/i.test(contentType) ? contentType : `${contentType}; charset=utf-8`;
}

/** Arrays and objects JSON writes as data; not a stream, a StreamableFile or a typed array. */
function isPlainData(data: object): boolean {
  if (Array.isArray(data)) return true;
  if (ArrayBuffer.isView(data) || typeof (data as { pipe?: unknown }).pipe === 'function') return false;
  return data.constructor?.name !== 'StreamableFile';
}
