import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { createStockStore } from '../stock/create-stock-store.js';
import type { StockStore } from '../stock/stock-store.interface.js';
import { InventoryController } from './inventory.controller.js';
import { STOCK_STORE } from './inventory.constants.js';
import { ConfigService } from '@nestjs/config';

@Module({
  controllers: [InventoryController],
  providers: [
    {
      provide: STOCK_STORE,
      inject: [ConfigService],
      useFactory: (config: ConfigService) =>
        createStockStore({ databaseUrl: config.get('DATABASE_URL'), dataDir: config.get('INVENTORY_DATA_DIR') }),
    },
  ],
})
export class InventoryModule implements OnApplicationShutdown {
  constructor(@Inject(STOCK_STORE) private readonly stock: StockStore) {}

  async onApplicationShutdown(): Promise<void> {
    await this.stock.close();
  }
}
