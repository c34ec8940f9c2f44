import { Body, Controller, Header, HttpCode, Logger, Post } from '@nestjs/common';
import { PublicRoute } from 'nest-service-auth';
import { CreateOrderDto } from './create-order.dto.js';
import { InventoryClient } from './inventory.client.js';

/** The public edge: customers place orders here, without service credentials. */
@Controller('api/orders')
@PublicRoute()
export class OrdersController {
  private readonly logger = new Logger('OrdersController');

  constructor(private readonly inventory: InventoryClient) {}

  @Post()
  @HttpCode(200)
  @Header('content-type', 'text/plain; charset=utf-8')
  async create(@Body() order: CreateOrderDto): Promise<string> {
    this.logger.log(`Sending Order to Inventory Service ${JSON.stringify({ productId: order.productId, quantity: order.quantity })}`);
    const answer = await this.inventory.reserve(order);
    return answer.message;
  }
}
