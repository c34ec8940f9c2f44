import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { createStockStore } from '../stock/create-stock-store.js';
import type { MemoryStockData } from '../stock/memory-stock-store.js';
import { stockStoreOptions } from '../stock/stock-store-config.js';
import type { StockStore } from '../stock/stock-store.interface.js';
import { InventoryController } from './inventory.controller.js';
import { InventoryMessagesController } from './inventory-messages.controller.js';
import { STOCK_STORE } from './inventory.constants.js';
import { ConfigService } from '@nestjs/config';

@Module({})
export class InventoryModule implements OnApplicationShutdown {
  constructor(@Inject(STOCK_STORE) private readonly stock: StockStore) {}

  /** The store comes from the environment (stock-store-config.ts); `memoryData` opens a memory store on it. */
  static forRoot(memoryData?: MemoryStockData): DynamicModule {
    return {
      module: InventoryModule,
      controllers: [InventoryController, InventoryMessagesController],
      providers: [
        {
          provide: STOCK_STORE,
          inject: [ConfigService],
          useFactory: (config: ConfigService) => createStockStore(stockStoreOptions((name) => config.get<string>(name), memoryData)),
        },
      ],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stock.close();
  }
}
