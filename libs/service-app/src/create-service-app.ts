import {
  BadRequestException,
  ValidationPipe,
  type DynamicModule,
  type INestApplication,
  type LoggerService,
  type LogLevel,
  type Type,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { Express } from 'express';
import { BodyDepthPipe } from './body-depth.pipe.js';

export type HttpAdapterName = 'express' | 'fastify';

export interface ServiceAppOptions {
  /** Default 'express'. */
  adapter?: HttpAdapterName;
  logger?: LoggerService | LogLevel[] | false;
  /**
   * Largest request body the framework's own parsers read, in bytes: Fastify's `bodyLimit`, the Express
   * JSON and urlencoded parsers' `limit`. Default: the framework's (Fastify 1 MiB, Express 100 KiB).
   */
  maxBodyBytes?: number;
  /**
   * Keep the exact bytes of each body (`rawBody: true`), which signatures and digests are checked
   * against. Default true; false only to show what the library says when an app forgets it.
   */
  rawBody?: boolean;
  /**
   * Express body parsers: 'no-inflate' (default) registers the JSON and urlencoded parsers with
   * `inflate: false`, so a compressed body is refused (415 content_encoding_unsupported) before anything
   * inflates it for a caller not yet authenticated; 'nest' keeps Nest's defaults, which inflate gzip,
   * deflate and brotli bodies.
   */
  expressBodyParsers?: 'no-inflate' | 'nest';
  /** Express: the instance to build on, e.g. with middleware that must run before Nest's parsers and routes. */
  express?: Express;
  /** Fastify server options (routing normalisation, rewriteUrl, …); `bodyLimit` comes from maxBodyBytes. */
  fastify?: ConstructorParameters<typeof FastifyAdapter>[0];
  /**
   * The demo services' ValidationPipe: DTOs whitelisted and transformed, a refusal is 400
   * `validation_failed`; before it, a body nested too deeply is 400 `body_malformed` (BodyDepthPipe).
   */
  validation?: boolean;
}

/**
 * A Nest application as the demo services, the bench and the tests create it, on Express or Fastify.
 * `abortOnError: false`: a configuration error rejects (naming the setting) instead of exiting the
 * process. Not initialised: the caller listens (or calls init()).
 */
export async function createServiceApp(module: Type | DynamicModule, options: ServiceAppOptions = {}): Promise<INestApplication> {
  const { maxBodyBytes, logger } = options;
  const settings = { rawBody: options.rawBody ?? true, logger, abortOnError: false };
  if (options.adapter === 'fastify') {
    const fastify = maxBodyBytes === undefined ? options.fastify : { ...options.fastify, bodyLimit: maxBodyBytes };
    return withValidation(await NestFactory.create(module, new FastifyAdapter(fastify), settings), options);
  }
  const app = await NestFactory.create<NestExpressApplication>(module, new ExpressAdapter(options.express), settings);
  const inflate = (options.expressBodyParsers ?? 'no-inflate') === 'nest';
  if (!inflate || maxBodyBytes !== undefined) {
    // Nest's own parsers, with the limit and (unless 'nest') without inflating.
    const parser = { ...(maxBodyBytes === undefined ? {} : { limit: maxBodyBytes }), ...(inflate ? {} : { inflate: false }) };
    app.useBodyParser('json', parser);
    app.useBodyParser('urlencoded', { ...parser, extended: true });
  }
  return withValidation(app, options);
}

function withValidation(app: INestApplication, options: ServiceAppOptions): INestApplication {
  if (!options.validation) return app;
  return app.useGlobalPipes(
    new BodyDepthPipe(),
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      exceptionFactory: (errors) =>
        new BadRequestException({
          statusCode: 400,
          error: 'Bad Request',
          reason: 'validation_failed',
          message: errors.flatMap((e) => Object.values(e.constraints ?? {})),
        }),
    }),
  );
}
