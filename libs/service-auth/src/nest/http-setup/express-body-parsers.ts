import type { IncomingMessage } from 'node:http';
import { JWE_MEDIA_TYPE } from '../../crypto/jwe-media-type.js';
import { declaresBody } from '../adapters/raw-body.js';
import { bodyRefusal, parserRefusal } from './parser-refusals.js';
import { refusePrototypeKeys } from './prototype-key-reviver.js';

/** The part of a Nest Express application used here (NestExpressApplication), described: platform-express is the app's dependency. */
export interface ExpressParsersApp {
  useBodyParser(type: 'json' | 'urlencoded' | 'text' | 'raw', options: Record<string, unknown>): unknown;
  use(
    handler:
      | ((err: unknown, req: IncomingMessage, res: unknown, next: (err?: unknown) => void) => void)
      | ((req: IncomingMessage, res: unknown, next: (err?: unknown) => void) => void),
  ): unknown;
}

/** body-parser's `verify`: the exact bytes, which the signature and the digest are checked against. */
function keepRawBody(req: IncomingMessage & { rawBody?: Buffer }, _res: unknown, bytes: Buffer): void {
  req.rawBody = bytes;
}

/**
 * Where bodies are parsed, on Express. Registered through Nest's public `app.useBodyParser`, so Nest
 * adds no parser of its own at init:
 * - JSON, urlencoded, text/plain (a signed string body) and application/jose (an encrypted body,
 *   kept as bytes) are read up to `maxBodyBytes`, their bytes kept as `rawBody` whether or not the
 *   app was created with `rawBody: true`;
 * - JSON with a `__proto__` key or a `constructor.prototype` is refused (400 body_malformed), as
 *   Fastify's parser refuses it;
 * - `inflate: false`: nothing is ever decompressed (a body with a content coding is refused, 415
 *   content_encoding_unsupported, see PROTOCOL.md §2.2);
 * - then an error-handling middleware turns a parser's refusal into a ServiceAuthException with its
 *   reason (body_too_large, body_malformed, media_type_unsupported, content_encoding_unsupported)
 *   and passes every other error on untouched. Nest's exception handling (and the app's own
 *   filters) then answers it like any HttpException;
 * - a body no parser read (any other type, or none named) is refused, 415 media_type_unsupported, as
 *   Fastify's catch-all parser refuses it: the same answer on both adapters, and no handler given a
 *   body it cannot see. A parser of the app's own for another type goes before
 *   ServiceAuthModule.setup (and keeps `rawBody`, body-parser's `verify`).
 */
export function useExpressBodyParsers(app: ExpressParsersApp, maxBodyBytes: number): void {
  const common = { limit: maxBodyBytes, inflate: false, verify: keepRawBody };
  app.useBodyParser('json', { ...common, reviver: refusePrototypeKeys });
  app.useBodyParser('urlencoded', { ...common, extended: true });
  app.useBodyParser('text', { ...common, type: 'text/plain' });
  app.useBodyParser('raw', { ...common, type: JWE_MEDIA_TYPE });
  app.use((err: unknown, req: IncomingMessage, _res: unknown, next: (err?: unknown) => void) =>
    next(parserRefusal(err, req.headers) ?? err),
  );
  // A parser that read the body has consumed the stream (body-parser 2 keeps no `_body` flag): one still
  // unread was claimed by none.
  app.use((req: IncomingMessage, _res: unknown, next: (err?: unknown) => void) =>
    next(declaresBody(req) && !req.readableEnded ? bodyRefusal('media_type_unsupported') : undefined),
  );
}
