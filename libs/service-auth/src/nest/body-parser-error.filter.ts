import { Catch, HttpException, type ArgumentsHost } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { checkContentEncoding } from '../protocol/content-encoding.js';
import type { ReasonCode } from '../protocol/reason-codes.js';
import { nodeRequest, type ServiceAuthRequest } from './service-auth-request.js';
import { ServiceAuthException } from './service-auth.exception.js';

/** The members of a body parser's error that say what went wrong (body-parser: type, status; Fastify: code). */
interface ParserError {
  type?: unknown;
  code?: unknown;
  statusCode?: unknown;
}

/** Which body-parser failures (Express body-parser, Fastify content-type parsers) mean what. */
function reasonFor(error: unknown): ReasonCode | undefined {
  if (!error || typeof error !== 'object') return undefined;
  const cause: ParserError = error;
  switch (cause.type ?? cause.code) {
    case 'entity.too.large':
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'body_too_large';
    // body-parser's own refusal of a Content-Encoding (any coding with `inflate: false`, an unknown one otherwise)
    case 'encoding.unsupported':
      return 'content_encoding_unsupported';
    case 'entity.parse.failed':
    case 'entity.verify.failed':
    case 'charset.unsupported':
    case 'request.size.invalid':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return 'body_malformed';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'media_type_unsupported';
  }
  // zlib (Z_DATA_ERROR, Z_BUF_ERROR, …): body-parser could not inflate what the request said was compressed.
  if (typeof cause.code === 'string' && cause.code.startsWith('Z_')) return 'body_malformed';
  if (error instanceof SyntaxError && cause.statusCode === 400) return 'body_malformed';
  return undefined;
}

/**
 * A body with a content coding that a parser failed on (Fastify parsing compressed bytes as JSON,
 * Express failing to inflate them, or refusing to with `inflate: false`) is refused for its coding,
 * as the guard refuses it on a route it verifies: one reason for one cause, on both adapters.
 */
function isContentEncoded(host: ArgumentsHost): boolean {
  try {
    checkContentEncoding(nodeRequest(host.switchToHttp().getRequest<ServiceAuthRequest>()).headers['content-encoding']);
    return false;
  } catch {
    return true;
  }
}

const MESSAGES: Partial<Record<ReasonCode, string>> = {
  body_too_large: 'The request body is too large',
  media_type_unsupported: 'Unsupported content type',
  content_encoding_unsupported: 'Request bodies must be sent without a content coding (no Content-Encoding, or identity)',
};

/**
 * Body parsers run before any guard, so their refusals (too large, not JSON) would reach the
 * caller without a reason code. This gives them one; every other exception is left to Nest.
 */
@Catch(HttpException)
export class BodyParserErrorFilter extends BaseExceptionFilter {
  override catch(exception: HttpException, host: ArgumentsHost): void {
    const parserReason = host.getType() === 'http' ? reasonFor(exception.cause) : undefined;
    if (!parserReason) return super.catch(exception, host);
    const reason = isContentEncoded(host) ? 'content_encoding_unsupported' : parserReason;
    super.catch(new ServiceAuthException(reason, MESSAGES[reason] ?? 'The request body is malformed'), host);
  }
}
