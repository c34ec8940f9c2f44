/**
 * Persistence contract of the inventory's stock and of the idempotency keys of the orders applied to it.
 *
 * Idempotency semantics (one key = one attempt of one operation, as in Stripe's API and in the IETF
 * `Idempotency-Key` header draft):
 * - A key belongs to the caller that sent it: the record is found by (verified caller id, key), never by
 *   the key alone. Callers choose their keys independently, so the same key from two callers names two
 *   attempts; answering one with the other's record would show it another caller's order (product,
 *   quantity, stock) and never apply its own.
 * - The first request carrying a key is executed and its OUTCOME is recorded under the key, in the same
 *   transaction as the stock change, whatever that outcome is: a success (200) AND a business refusal
 *   (404 `product_unknown`, 409 `insufficient_stock`). A repeated key gets exactly the recorded status and
 *   body back (`replayed: true`), even after a restart and even if the world has changed since (stock
 *   replenished, product added). This is deliberate: the key names one attempt, the server has already
 *   decided that attempt and the caller may have acted on the answer (e.g. cancelled the order after a
 *   409). If a retry of the SAME attempt (say after a timeout that hid the 409) could later succeed, the
 *   stock would be decremented for an order the caller believes refused. To try again after a refusal,
 *   the caller makes a NEW attempt, i.e. sends a new key. Stripe does the same: "saving the resulting
 *   status code and body of the first request made for any given idempotency key, regardless of whether
 *   it succeeds or fails".
 * - Not recorded: a key reused with a different payload (422 `idempotency_key_reused`, the request is
 *   not executed: the payload is the client's bug, not an outcome of the key's operation), invalid input
 *   (rejected before any database work; the controller's validation should catch it first) and
 *   infrastructure failures (the transaction rolls back, nothing was applied, so a retry with the same key
 *   re-executes it safely).
 * - Concurrent requests with the same key do not get a "request in progress" 409: they wait for the
 *   first one to commit (its transaction is short) and then replay its outcome.
 */

export interface OrderOutcomeBody {
  message: string;
  productId: string;
  /** Stock left after the order; only on success (200). */
  newStock?: number;
  /** Machine-readable reason of a refusal: 'product_unknown' | 'insufficient_stock' | 'idempotency_key_reused'. */
  reason?: string;
}

export interface OrderOutcome {
  /** HTTP status to answer with: 200, 404, 409 or 422. */
  status: number;
  body: OrderOutcomeBody;
  /** True when this answer is the one recorded under the idempotency key by an earlier request. */
  replayed: boolean;
}

export type OrderRefusalReason = 'product_unknown' | 'insufficient_stock' | 'idempotency_key_reused';

export interface StockStore {
  /** Creates the schema and seeds the stock if the stock table is empty. Idempotent, safe to run concurrently. */
  init(): Promise<void>;
  /**
   * Applies an order at most once per (caller, idempotency key) (atomically with the key record) and
   * returns its outcome, or the outcome recorded for that caller's key. `callerId` is the verified
   * caller (never a value the request itself states). Throws a RangeError for invalid input (empty
   * caller id, key or product id, quantity not a positive integer); nothing is recorded then.
   */
  applyOrder(callerId: string, idempotencyKey: string, productId: string, quantity: number): Promise<OrderOutcome>;
  /** Current stock of a product, undefined if the product is unknown. */
  getStock(productId: string): Promise<number | undefined>;
  /** Releases the database (closes PGlite / ends the pg pool). */
  close(): Promise<void>;
}
