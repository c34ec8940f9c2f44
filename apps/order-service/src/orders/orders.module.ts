import { Module } from '@nestjs/common';
import { SignedHttpModule } from 'nest-service-auth/client';
import { InventoryClient } from './inventory.client.js';
import { OrdersController } from './orders.controller.js';

@Module({
  imports: [SignedHttpModule],
  controllers: [OrdersController],
  providers: [InventoryClient],
})
export class OrdersModule {}
