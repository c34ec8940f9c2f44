/**
 * Input rules every StockStore applies before any work, so an invalid order or seed is refused the same
 * way (a RangeError, nothing recorded) whichever store runs: PostgreSQL, PGlite or memory.
 */

/** Largest quantity: PostgreSQL's `integer`, the column type of the SQL stores. */
export const MAX_QUANTITY = 2_147_483_647;

export function checkProductId(productId: string): void {
  if (typeof productId !== 'string' || productId.length === 0) {
    throw new RangeError('The product id must be a non-empty string');
  }
}

export function checkCallerId(callerId: string): void {
  if (typeof callerId !== 'string' || callerId.length === 0) {
    throw new RangeError('The caller id must be a non-empty string');
  }
}

/** Throws a RangeError for an empty caller, key or product id, or a quantity that is not an integer in 1..MAX_QUANTITY. */
export function checkOrder(callerId: string, idempotencyKey: string, productId: string, quantity: number): void {
  checkCallerId(callerId);
  if (typeof idempotencyKey !== 'string' || idempotencyKey.length === 0) {
    throw new RangeError('The idempotency key must be a non-empty string');
  }
  checkProductId(productId);
  if (!Number.isInteger(quantity) || quantity < 1 || quantity > MAX_QUANTITY) {
    throw new RangeError(`The quantity must be an integer between 1 and ${MAX_QUANTITY}, got ${quantity}`);
  }
}

/** Throws a RangeError for a seed entry with an empty product id or a quantity outside 0..MAX_QUANTITY. */
export function checkSeed(seed: Readonly<Record<string, number>>): void {
  for (const [productId, quantity] of Object.entries(seed)) {
    checkProductId(productId);
    if (!Number.isInteger(quantity) || quantity < 0 || quantity > MAX_QUANTITY) {
      throw new RangeError(`Invalid seed quantity for ${productId}: ${quantity}`);
    }
  }
}
