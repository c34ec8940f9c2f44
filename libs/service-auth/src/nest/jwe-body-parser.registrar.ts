import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { JWE_MEDIA_TYPE } from '../crypto/jwe-media-type.js';
import { DEFAULT_MAX_BODY_BYTES } from './service-auth.constants.js';
import { SERVICE_AUTH_OPTIONS } from './service-auth.module-definition.js';
import type { ServiceAuthModuleOptions } from './service-auth-options.interface.js';

/**
 * Fastify answers 415 to a content type it has no parser for, before any guard runs; this teaches
 * it application/jose, keeping the bytes as `rawBody` for the signature check and the decryption.
 * Express needs nothing: the guard reads a body no parser claimed.
 */
@Injectable()
export class JweBodyParserRegistrar implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(SERVICE_AUTH_OPTIONS) private readonly options: ServiceAuthModuleOptions,
  ) {}

  onModuleInit(): void {
    const adapter: any = this.adapterHost.httpAdapter;
    if (!adapter || adapter.getType?.() !== 'fastify') return;
    const instance = adapter.getInstance();
    if (instance.hasContentTypeParser(JWE_MEDIA_TYPE)) return;
    instance.addContentTypeParser(
      JWE_MEDIA_TYPE,
      { parseAs: 'buffer', bodyLimit: this.options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES },
      (req: any, body: Buffer, done: (err: Error | null, body?: unknown) => void) => {
        req.rawBody = body;
        done(null, undefined);
      },
    );
  }
}
