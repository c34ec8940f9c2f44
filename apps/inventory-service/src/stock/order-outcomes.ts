import type { OrderOutcomeBody } from './stock-store.interface.js';

/**
 * The answers an order can get, written once so that every StockStore (PostgreSQL, PGlite, memory) says
 * the same thing, word for word: clients and tests see no difference between the stores.
 */

export interface DecidedOutcome {
  status: number;
  body: OrderOutcomeBody;
}

export function orderApplied(productId: string, newStock: number): DecidedOutcome {
  return {
    status: 200,
    body: { message: `Inventory updated for product ${productId}. New stock: ${newStock}`, productId, newStock },
  };
}

export function productUnknown(productId: string): DecidedOutcome {
  return {
    status: 404,
    body: { message: `Unknown product ${productId}`, productId, reason: 'product_unknown' },
  };
}

export function insufficientStock(productId: string, requested: number, available: number): DecidedOutcome {
  return {
    status: 409,
    body: {
      message: `Insufficient stock for product ${productId}: requested ${requested}, available ${available}`,
      productId,
      reason: 'insufficient_stock',
    },
  };
}

/** A key already recorded for another product or quantity: refused, and (unlike the others) not recorded. */
export function idempotencyKeyReused(
  idempotencyKey: string,
  recorded: { productId: string; quantity: number },
  productId: string,
  quantity: number,
): DecidedOutcome {
  return {
    status: 422,
    body: {
      message:
        `Idempotency key ${idempotencyKey} was already used for product ${recorded.productId} ` +
        `(quantity ${recorded.quantity}), not for product ${productId} (quantity ${quantity})`,
      productId,
      reason: 'idempotency_key_reused',
    },
  };
}
