import { BadRequestException, ValidationPipe, type INestApplication, type LoggerService, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { KeyProvider } from 'nest-service-auth';
import { AppModule } from './app.module.js';
import type { MemoryStockData } from './stock/memory-stock-store.js';

export interface InventoryAppOptions {
  env: Record<string, string | undefined>;
  adapter?: 'express' | 'fastify';
  logger?: LoggerService | LogLevel[] | false;
  /** Source of keys instead of the environment (see AppModule.forRoot). */
  keyProvider?: KeyProvider;
  /**
   * Keep the stock in memory, in this data (as INVENTORY_STOCK_STORE=memory does, in fresh data). The data
   * outlives the app, so a test can stop the inventory and start it again on the same stock and keys.
   */
  stockData?: MemoryStockData;
}

/** Builds the inventory service on either HTTP adapter; `main.ts` listens, tests listen on port 0. */
export async function createInventoryApp(options: InventoryAppOptions): Promise<INestApplication> {
  const maxBodyBytes = Number(options.env.MAX_BODY_BYTES ?? 64 * 1024);
  const module = AppModule.forRoot(options.env, options.keyProvider, options.stockData);
  // rawBody: true keeps the exact bytes of each body, which the signature and digest are checked against.
  // abortOnError: false: a configuration error rejects (naming the setting) instead of exiting the process.
  const app =
    options.adapter === 'fastify'
      ? await NestFactory.create<NestFastifyApplication>(module, new FastifyAdapter({ bodyLimit: maxBodyBytes }), { rawBody: true, logger: options.logger, abortOnError: false })
      : await NestFactory.create<NestExpressApplication>(module, new ExpressAdapter(), { rawBody: true, logger: options.logger, abortOnError: false });
  if (options.adapter !== 'fastify') {
    // inflate: false: a compressed body is refused (415 content_encoding_unsupported) before anything
    // inflates it for a caller not yet authenticated; Nest's default parsers would gunzip it first.
    const express = app as NestExpressApplication;
    express.useBodyParser('json', { limit: maxBodyBytes, inflate: false });
    express.useBodyParser('urlencoded', { limit: maxBodyBytes, inflate: false, extended: true });
  }
  app.useGlobalPipes(
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
  app.enableShutdownHooks();
  return app;
}
