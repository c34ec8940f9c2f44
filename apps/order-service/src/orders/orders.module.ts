import { Module } from '@nestjs/common';
import { InventoryClient } from './inventory.client.js';
import { OrdersController } from './orders.controller.js';

@Module({
  controllers: [OrdersController],
  providers: [InventoryClient],
})
export class OrdersModule {}
