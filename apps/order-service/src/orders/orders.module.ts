import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { KeyProvider } from 'nest-service-auth';
import { SignedHttpModule } from 'nest-service-auth/client';
import { inventoryClientOptions } from './inventory-client.options.js';
import { InventoryClient } from './inventory.client.js';
import { OrdersController } from './orders.controller.js';

@Module({})
export class OrdersModule {
  /** `keyProvider` replaces the configuration as the source of the inventory's keys (see AppModule.forRoot). */
  static forRoot(keyProvider?: KeyProvider): DynamicModule {
    return {
      module: OrdersModule,
      imports: [
        SignedHttpModule.registerAsync({
          inject: [ConfigService],
          useFactory: (config: ConfigService) => inventoryClientOptions(config, keyProvider),
        }),
      ],
      controllers: [OrdersController],
      providers: [InventoryClient],
    };
  }
}
