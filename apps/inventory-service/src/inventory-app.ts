import type { INestApplication, LoggerService, LogLevel } from '@nestjs/common';
import { createServiceApp, type HttpAdapterName } from 'service-app';
import type { KeyProvider } from 'nest-service-auth';
import { AppModule } from './app.module.js';
import type { MemoryStockData } from './stock/memory-stock-store.js';

export interface InventoryAppOptions {
  env: Record<string, string | undefined>;
  adapter?: HttpAdapterName;
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
  const app = await createServiceApp(AppModule.forRoot(options.env, options.keyProvider, options.stockData), {
    adapter: options.adapter,
    logger: options.logger,
    maxBodyBytes: Number(options.env.MAX_BODY_BYTES ?? 64 * 1024),
    validation: true,
  });
  app.enableShutdownHooks();
  return app;
}
