import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  HttpException,
  Inject,
  Logger,
  NotFoundException,
  Param,
  Post,
  UseGuards,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Caller, TrustedCaller, type VerifiedCaller } from 'nest-service-auth';
import { CallerThrottlerGuard } from 'nest-service-auth/throttler';
import type { StockStore } from '../stock/stock-store.interface.js';
import { STOCK_STORE } from './inventory.constants.js';
import { idempotencyKeyOf } from './idempotency-key.js';
import { StockUpdateDto } from './stock-update.dto.js';

@Controller('api/inventory')
@TrustedCaller('order-service')
// A controller guard runs after the global ServiceAuthGuard, so requests are counted per verified caller.
@UseGuards(CallerThrottlerGuard)
export class InventoryController {
  private readonly logger = new Logger('InventoryController');

  constructor(@Inject(STOCK_STORE) private readonly stock: StockStore) {}

  @Post()
  // The answer is the outcome the store recorded (200), first time and on an idempotent replay alike; nothing is created.
  @HttpCode(200)
  async update(
    @Body() order: StockUpdateDto,
    @Caller() caller: VerifiedCaller,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
  ) {
    // Checked before anything else: a malformed key must not reach the store.
    const key = idempotencyKeyOf(idempotencyKey);
    this.logger.log(`Received Order In Inventory Service - ${JSON.stringify({ productId: order.productId, quantity: order.quantity })}`);
    // The key is the verified caller's own: another caller sending the same key names another order.
    // Without a key the order still applies exactly once per request (the nonce already prevents replays).
    const outcome = await this.stock.applyOrder(caller.id, key ?? randomUUID(), order.productId, order.quantity);
    if (outcome.status >= 400) throw new HttpException({ statusCode: outcome.status, ...outcome.body }, outcome.status);
    return outcome.body;
  }

  @Get(':productId')
  async get(@Param('productId') productId: string) {
    const quantity = await this.stock.getStock(productId);
    if (quantity === undefined)
      throw new NotFoundException({ statusCode: 404, reason: 'product_unknown', message: `Unknown product ${productId}` });
    return { productId, stock: quantity };
  }
}
