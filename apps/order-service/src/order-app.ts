import type { INestApplication, LoggerService, LogLevel } from '@nestjs/common';
import { createServiceApp, type HttpAdapterName } from 'service-app';
import type { KeyProvider } from 'nest-service-auth';
import { AppModule } from './app.module.js';

export interface OrderAppOptions {
  env: Record<string, string | undefined>;
  adapter?: HttpAdapterName;
  logger?: LoggerService | LogLevel[] | false;
  /** Source of keys instead of the environment (see AppModule.forRoot). */
  keyProvider?: KeyProvider;
}

/** Builds the order service on either HTTP adapter; `main.ts` listens, tests listen on port 0. */
export async function createOrderApp(options: OrderAppOptions): Promise<INestApplication> {
  const app = await createServiceApp(AppModule.forRoot(options.env, options.keyProvider), {
    adapter: options.adapter,
    logger: options.logger,
    maxBodyBytes: Number(options.env.MAX_BODY_BYTES ?? 64 * 1024),
    validation: true,
    // A pure caller: it accepts no signed callers, so it has no ServiceAuthModule to set up.
    serviceAuth: false,
  });
  app.enableShutdownHooks();
  return app;
}
