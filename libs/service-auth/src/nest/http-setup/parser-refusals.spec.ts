import { describe, expect, it } from '@jest/globals';
import { parserRefusalReason } from './parser-refusals.js';

/** An error shaped as body-parser makes them (http-errors: status, statusCode, expose, type). */
const bodyParserError = (status: number, type: string) =>
  Object.assign(new Error(type), { status, statusCode: status, expose: status < 500, type });
/** An error shaped as Fastify's content-type parser makes them (FastifyError: code, statusCode). */
const fastifyError = (statusCode: number, code: string) => Object.assign(new Error(code), { name: 'FastifyError', code, statusCode });

describe('parserRefusalReason: every refusal of a body parser has a reason', () => {
  it.each([
    // body-parser 2 (Express), every type it throws with a 4xx
    [413, 'entity.too.large', 'body_too_large'],
    [413, 'parameters.too.many', 'body_too_large'],
    [415, 'encoding.unsupported', 'content_encoding_unsupported'],
    [400, 'entity.parse.failed', 'body_malformed'],
    [403, 'entity.verify.failed', 'body_malformed'],
    [415, 'charset.unsupported', 'body_malformed'],
    [400, 'querystring.parse.rangeError', 'body_malformed'],
    [400, 'request.aborted', 'body_malformed'],
    [400, 'request.size.invalid', 'body_malformed'],
    // a type a later body-parser may add: the reason of its status
    [400, 'entity.something.new', 'body_malformed'],
    [413, 'entity.something.new', 'body_too_large'],
    [415, 'entity.something.new', 'media_type_unsupported'],
  ])('body-parser %i %s → %s', (status, type, reason) => {
    expect(parserRefusalReason(bodyParserError(status, type))).toBe(reason);
  });

  it.each(['stream.encoding.set', 'stream.not.readable'])(
    'body-parser 500 %s (the body was already read or decoded by other code) is a server fault: no reason',
    (type) => {
      expect(parserRefusalReason(bodyParserError(500, type))).toBeUndefined();
    },
  );

  it.each([
    [413, 'FST_ERR_CTP_BODY_TOO_LARGE', 'body_too_large'],
    [415, 'FST_ERR_CTP_INVALID_MEDIA_TYPE', 'media_type_unsupported'],
    [400, 'FST_ERR_CTP_INVALID_CONTENT_LENGTH', 'body_malformed'],
    [400, 'FST_ERR_CTP_EMPTY_JSON_BODY', 'body_malformed'],
    [400, 'FST_ERR_CTP_INVALID_JSON_BODY', 'body_malformed'],
    // a code a later Fastify may add: the reason of its status
    [400, 'FST_ERR_CTP_SOMETHING_NEW', 'body_malformed'],
    [415, 'FST_ERR_CTP_SOMETHING_NEW', 'media_type_unsupported'],
  ])('Fastify %i %s → %s', (status, code, reason) => {
    expect(parserRefusalReason(fastifyError(status, code))).toBe(reason);
  });

  it('a JSON syntax error marked 400 (Fastify’s JSON parser, secure-json-parse) → body_malformed', () => {
    expect(parserRefusalReason(Object.assign(new SyntaxError('Unexpected end of JSON input'), { statusCode: 400 }))).toBe('body_malformed');
  });

  it('a zlib error (a body that does not inflate) → body_malformed', () => {
    expect(parserRefusalReason(Object.assign(new Error('incorrect header check'), { code: 'Z_DATA_ERROR' }))).toBe('body_malformed');
  });

  it.each([
    ['no cause', undefined],
    ['an application error', new Error('boom')],
    ['a Fastify error that is not a parser’s', fastifyError(404, 'FST_ERR_NOT_FOUND')],
    [
      'an http-error without a type (not a parser’s)',
      Object.assign(new Error('Not Found'), { status: 404, statusCode: 404, expose: true }),
    ],
  ])('%s → no reason (left to Nest)', (_name, cause) => {
    expect(parserRefusalReason(cause)).toBeUndefined();
  });
});
