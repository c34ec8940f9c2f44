import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { JWE_MEDIA_TYPE } from '../crypto/jwe-media-type.js';
import type { ResolvedServiceAuthOptions } from './resolved-options.js';
import { RESOLVED_OPTIONS } from './service-auth.constants.js';
import type { ServiceAuthRequest } from './service-auth-request.js';

type ParserDone = (err: Error | null, body?: unknown) => void;

/**
 * The part of a Fastify instance used here, described rather than imported: fastify is not a
 * dependency of this package (an Express application never installs it).
 */
interface FastifyContentTypeParsers {
  hasContentTypeParser(contentType: string): boolean;
  addContentTypeParser(
    contentType: string,
    options: { parseAs: 'buffer'; bodyLimit: number },
    parser: (req: ServiceAuthRequest, body: Buffer, done: ParserDone) => void,
  ): void;
}

/**
 * Fastify answers 415 to a content type it has no parser for, before any guard runs; this teaches
 * it application/jose, keeping the bytes as `rawBody` for the signature check and the decryption.
 * It also makes Fastify keep the bytes of text/plain bodies, which its built-in parser drops.
 * Express needs nothing: the guard reads a body no parser claimed.
 */
@Injectable()
export class FastifyRawBodyRegistrar implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedServiceAuthOptions,
  ) {}

  onModuleInit(): void {
    const adapter = this.adapterHost.httpAdapter;
    if (!adapter || adapter.getType() !== 'fastify') return;
    const instance = adapter.getInstance<FastifyContentTypeParsers>();
    const bodyLimit = this.options.maxBodyBytes;
    if (!instance.hasContentTypeParser(JWE_MEDIA_TYPE)) {
      instance.addContentTypeParser(JWE_MEDIA_TYPE, { parseAs: 'buffer', bodyLimit }, (req, body, done) => {
        req.rawBody = body;
        done(null, undefined);
      });
    }
    // Fastify's built-in text/plain parser keeps no bytes (Nest's rawBody covers JSON and urlencoded
    // only), so a signed text body (SignedHttpService sends strings as text/plain) could never be
    // verified: replace that default, unless the application registered a text/plain parser of its own.
    try {
      instance.addContentTypeParser('text/plain', { parseAs: 'buffer', bodyLimit }, (req, body, done) => {
        req.rawBody = body;
        done(null, body.toString('utf8'));
      });
    } catch (err) {
      if ((err as { code?: string }).code !== 'FST_ERR_CTP_ALREADY_PRESENT') throw err;
    }
  }
}
