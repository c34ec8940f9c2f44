import { Controller, Inject, Logger } from '@nestjs/common';
import { MessagePattern, Payload, RpcException } from '@nestjs/microservices';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { randomUUID } from 'node:crypto';
import { Caller, TrustedCaller, type VerifiedCaller } from 'nest-service-auth';
import type { StockStore } from '../stock/stock-store.interface.js';
import { STOCK_STORE } from './inventory.constants.js';
import { StockUpdateDto } from './stock-update.dto.js';

/**
 * The stock update as a signed microservice message (`inventory.update`, served when the app connects a
 * TCP microservice: INVENTORY_MESSAGE_PORT). The same order as POST /api/inventory, from the same
 * trusted caller; refusals reach the caller as `{ status, reason, message }`.
 */
@Controller()
@TrustedCaller('order-service')
export class InventoryMessagesController {
  private readonly logger = new Logger('InventoryMessagesController');

  constructor(@Inject(STOCK_STORE) private readonly stock: StockStore) {}

  @MessagePattern('inventory.update')
  async update(@Payload() payload: unknown, @Caller() caller: VerifiedCaller) {
    const order = await validOrder(payload);
    this.logger.log(
      `Received Order Message In Inventory Service - ${JSON.stringify({ productId: order.productId, quantity: order.quantity })}`,
    );
    // Each message applies once: its nonce already refuses a replay, so every accepted message is a new order.
    const outcome = await this.stock.applyOrder(caller.id, randomUUID(), order.productId, order.quantity);
    if (outcome.status >= 400) throw new RpcException({ status: outcome.status, ...outcome.body });
    return outcome.body;
  }
}

/** The payload as a StockUpdateDto, validated as the HTTP route's ValidationPipe does, or a 400 refusal. */
async function validOrder(payload: unknown): Promise<StockUpdateDto> {
  const order = typeof payload === 'object' && payload !== null ? plainToInstance(StockUpdateDto, payload) : undefined;
  const errors = order ? await validate(order, { whitelist: true, forbidNonWhitelisted: true }) : [];
  if (!order || errors.length > 0) {
    const message = errors.flatMap((e) => Object.values(e.constraints ?? {})).join('; ') || 'the order must be a JSON object';
    throw new RpcException({ status: 400, reason: 'validation_failed', message });
  }
  return order;
}
