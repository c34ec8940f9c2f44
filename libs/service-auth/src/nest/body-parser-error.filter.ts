import { Catch, HttpException, type ArgumentsHost } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import type { ReasonCode } from '../protocol/reason-codes.js';
import { ServiceAuthException } from './service-auth.exception.js';

/** Which body-parser failures (Express body-parser, Fastify content-type parsers) mean what. */
function reasonFor(cause: any): ReasonCode | undefined {
  if (!cause || typeof cause !== 'object') return undefined;
  switch (cause.type ?? cause.code) {
    case 'entity.too.large':
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'body_too_large';
    case 'entity.parse.failed':
    case 'entity.verify.failed':
    case 'encoding.unsupported':
    case 'charset.unsupported':
    case 'request.size.invalid':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return 'body_malformed';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'media_type_unsupported';
  }
  if (cause instanceof SyntaxError && (cause as any).statusCode === 400) return 'body_malformed';
  return undefined;
}

/**
 * Body parsers run before any guard, so their refusals (too large, not JSON) would reach the
 * caller without a reason code. This gives them one; every other exception is left to Nest.
 */
@Catch(HttpException)
export class BodyParserErrorFilter extends BaseExceptionFilter {
  override catch(exception: HttpException, host: ArgumentsHost): void {
    const reason = host.getType() === 'http' ? reasonFor(exception.cause) : undefined;
    if (!reason) return super.catch(exception, host);
    const message = reason === 'body_too_large' ? 'The request body is too large' : reason === 'media_type_unsupported' ? 'Unsupported content type' : 'The request body is malformed';
    super.catch(new ServiceAuthException(reason, message), host);
  }
}
