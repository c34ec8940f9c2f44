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
import { ServiceAuthModule, type ServiceAuthSetupOptions } from 'nest-service-auth';
import { BodyDepthPipe } from './body-depth.pipe.js';

export type HttpAdapterName = 'express' | 'fastify';

export interface ServiceAppOptions {
  /** Default 'express'. */
  adapter?: HttpAdapterName;
  logger?: LoggerService | LogLevel[] | false;
  /**
   * Fastify's `bodyLimit`, for parsers the app adds itself. The parsers ServiceAuthModule.setup
   * installs read up to the module's `maxBodyBytes`.
   */
  maxBodyBytes?: number;
  /**
   * Keep the exact bytes of each body (`rawBody: true`), which signatures and digests are checked
   * against. Default true; false only to show what the library says when an app forgets it.
   */
  rawBody?: boolean;
  /**
   * ServiceAuthModule.setup's options (default `{}`: setup runs, with no prefix and no versioning).
   * `false` for an app without the library (or to show what it does without setup): no early
   * stranger check, and on Express Nest's JSON and urlencoded parsers with `maxBodyBytes` as their
   * limit and `inflate: false` (the same settings as setup's, for a fair comparison in the bench).
   */
  serviceAuth?: ServiceAuthSetupOptions | false;
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
    return startUpSteps(await NestFactory.create(module, new FastifyAdapter(fastify), settings), options);
  }
  const app = await NestFactory.create<NestExpressApplication>(module, new ExpressAdapter(options.express), settings);
  if (options.serviceAuth === false) {
    const parser = { ...(maxBodyBytes === undefined ? {} : { limit: maxBodyBytes }), inflate: false };
    app.useBodyParser('json', parser);
    app.useBodyParser('urlencoded', { ...parser, extended: true });
  }
  return startUpSteps(app, options);
}

/** The app's start-up steps: the library's (body parsers, the early stranger check), then the demo's validation. */
function startUpSteps(app: INestApplication, options: ServiceAppOptions): INestApplication {
  if (options.serviceAuth !== false) ServiceAuthModule.setup(app, options.serviceAuth);
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
