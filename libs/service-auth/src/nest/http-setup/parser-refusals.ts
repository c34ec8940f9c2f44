import type { IncomingHttpHeaders } from 'node:http';
import { checkContentEncoding } from '../../protocol/content-encoding.js';
import type { ReasonCode } from '../../errors/reason-codes.js';
import { ServiceAuthException } from '../verification/service-auth.exception.js';

/** The members of a body parser's error that say what went wrong (body-parser: type, status; Fastify: code, statusCode). */
interface ParserError {
  type?: unknown;
  code?: unknown;
  status?: unknown;
  statusCode?: unknown;
}

/**
 * Which parser failures (Express' body-parser, Fastify's) mean what. Each known refusal is named; any
 * other 4xx of a parser gets the reason of its status (below). A parser's 5xx (body-parser's
 * `stream.encoding.set` and `stream.not.readable`: the body was already read or decoded by other
 * code) is a server fault, answered and logged as one: undefined.
 */
export function parserRefusalReason(cause: unknown): ReasonCode | undefined {
  if (!cause || typeof cause !== 'object') return undefined;
  const error: ParserError = cause;
  switch (error.type ?? error.code) {
    case 'entity.too.large':
    case 'parameters.too.many':
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'body_too_large';
    // body-parser's own refusal of a Content-Encoding (any coding with `inflate: false`, an unknown one otherwise)
    case 'encoding.unsupported':
      return 'content_encoding_unsupported';
    case 'entity.parse.failed':
    case 'entity.verify.failed':
    case 'charset.unsupported':
    case 'querystring.parse.rangeError':
    case 'request.aborted':
    case 'request.size.invalid':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return 'body_malformed';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'media_type_unsupported';
  }
  // zlib (Z_DATA_ERROR, Z_BUF_ERROR, …): the parser could not inflate what the request said was compressed.
  if (typeof error.code === 'string' && error.code.startsWith('Z_')) return 'body_malformed';
  if (cause instanceof SyntaxError && (error.statusCode === 400 || error.status === 400)) return 'body_malformed';
  // A refusal of a parser this list does not know yet (a newer body-parser or Fastify): body-parser's
  // errors carry a `type`, Fastify's content-type parser errors a code FST_ERR_CTP_*.
  const isParserError = typeof error.type === 'string' || (typeof error.code === 'string' && error.code.startsWith('FST_ERR_CTP_'));
  const status = typeof error.statusCode === 'number' ? error.statusCode : error.status;
  if (isParserError && typeof status === 'number' && status >= 400 && status < 500) {
    if (status === 413) return 'body_too_large';
    if (status === 415) return 'media_type_unsupported';
    return 'body_malformed';
  }
  return undefined;
}

const MESSAGES: Partial<Record<ReasonCode, string>> = {
  body_too_large: 'The request body is too large',
  media_type_unsupported: 'Unsupported content type',
  content_encoding_unsupported: 'Request bodies must be sent without a content coding (no Content-Encoding, or identity)',
};

/**
 * The refusal of a body a parser failed on, or undefined when `cause` is not a parser's refusal. A
 * body with a content coding is refused for its coding, as the guard refuses it on a route it
 * verifies: one reason for one cause, on both adapters.
 */
export function parserRefusal(cause: unknown, headers: IncomingHttpHeaders): ServiceAuthException | undefined {
  const parserReason = parserRefusalReason(cause);
  if (!parserReason) return undefined;
  const reason = isContentEncoded(headers) ? 'content_encoding_unsupported' : parserReason;
  return bodyRefusal(
    reason,
    (cause as { type?: unknown }).type === 'parameters.too.many' ? 'The request body has too many parameters' : undefined,
  );
}

/** A refusal of the body for `reason`, with its usual message unless given one. */
export function bodyRefusal(reason: ReasonCode, message?: string): ServiceAuthException {
  return new ServiceAuthException(reason, message ?? MESSAGES[reason] ?? 'The request body is malformed');
}

export function isContentEncoded(headers: IncomingHttpHeaders): boolean {
  try {
    checkContentEncoding(headers['content-encoding']);
    return false;
  } catch {
    return true;
  }
}
