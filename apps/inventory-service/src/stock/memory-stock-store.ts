import { DEFAULT_SEED } from './default-seed.js';
import { idempotencyKeyReused, insufficientStock, orderApplied, productUnknown } from './order-outcomes.js';
import { checkOrder, checkSeed } from './stock-input.js';
import type { OrderOutcome, OrderOutcomeBody, StockStore } from './stock-store.interface.js';

interface RecordedOrder {
  productId: string;
  quantity: number;
  status: number;
  /** The outcome's body as JSON: every replay parses a copy, so no caller can alter what was recorded. */
  body: string;
}

/**
 * What a database would hold: the stock and the outcome recorded under each (caller, idempotency key). It outlives
 * the MemoryStockStores opened on it, as a database outlives its connections, so an app can be stopped and
 * started again on the same stock (tests restarting the inventory do this). Lost when the process exits.
 */
export class MemoryStockData {
  readonly stock = new Map<string, number>();
  readonly orders = new Map<string, RecordedOrder>();
}

export interface MemoryStockStoreOptions {
  /** Stock to seed when the stock is empty; defaults to DEFAULT_SEED. */
  seed?: Readonly<Record<string, number>>;
}

/**
 * StockStore in this process's memory, with the same contract as SqlStockStore (stock-store.interface.ts),
 * idempotency included: outcomes 200, 404 and 409 are recorded and replayed, a key reused for another
 * payload gets 422 and is not recorded, invalid input is a RangeError and records nothing. The suite in
 * test/support/stock-store-contract.ts runs on this store and on the SQL ones alike.
 *
 * For tests and demos: nothing survives the process, and replicas cannot share it (use DATABASE_URL).
 *
 * Atomicity without locks: applyOrder reads the key, decides and writes the stock and the outcome with no
 * `await` in between, and JavaScript runs one of them at a time, so concurrent orders (same key or same
 * product) are applied one after the other, as the SQL store's row locks make them.
 */
export class MemoryStockStore implements StockStore {
  private readonly seed: Readonly<Record<string, number>>;
  private closed = false;

  constructor(
    readonly data: MemoryStockData = new MemoryStockData(),
    options: MemoryStockStoreOptions = {},
  ) {
    this.seed = options.seed ?? DEFAULT_SEED;
    checkSeed(this.seed);
  }

  async init(): Promise<void> {
    this.checkOpen();
    if (this.data.stock.size > 0) return;
    for (const [productId, quantity] of Object.entries(this.seed)) this.data.stock.set(productId, quantity);
  }

  async applyOrder(callerId: string, idempotencyKey: string, productId: string, quantity: number): Promise<OrderOutcome> {
    checkOrder(callerId, idempotencyKey, productId, quantity);
    this.checkOpen();

    // Keys are the caller's own: the same key from another caller names another order.
    const scopedKey = JSON.stringify([callerId, idempotencyKey]);
    const recorded = this.data.orders.get(scopedKey);
    if (recorded) {
      if (recorded.productId !== productId || recorded.quantity !== quantity) {
        return { ...idempotencyKeyReused(idempotencyKey, recorded, productId, quantity), replayed: false };
      }
      return { status: recorded.status, body: JSON.parse(recorded.body) as OrderOutcomeBody, replayed: true };
    }

    const available = this.data.stock.get(productId);
    const { status, body } =
      available === undefined
        ? productUnknown(productId)
        : quantity > available
          ? insufficientStock(productId, quantity, available)
          : orderApplied(productId, available - quantity);
    if (status === 200) this.data.stock.set(productId, body.newStock!);
    const json = JSON.stringify(body);
    this.data.orders.set(scopedKey, { productId, quantity, status, body: json });
    return { status, body: JSON.parse(json) as OrderOutcomeBody, replayed: false };
  }

  async getStock(productId: string): Promise<number | undefined> {
    this.checkOpen();
    return this.data.stock.get(productId);
  }

  /** Nothing to flush: an order is complete once applyOrder was called. Later calls reject; the data stays. */
  async close(): Promise<void> {
    this.closed = true;
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('The memory stock store is closed');
  }
}
