import { DEFAULT_SEED } from './default-seed.js';
import { idempotencyKeyReused, insufficientStock, orderApplied, productUnknown, type DecidedOutcome } from './order-outcomes.js';
import { checkCallerId, checkOrder, checkSeed } from './stock-input.js';
import type { OrderOutcome, OrderOutcomeBody, StockStore } from './stock-store.interface.js';

/** The tiny query interface both adapters implement (PGlite, and a `pg` Pool for a PostgreSQL server). */
export interface SqlQueryable {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: R[] }>;
}

export interface SqlDatabase extends SqlQueryable {
  /**
   * Runs `fn` in one transaction (BEGIN ... COMMIT, ROLLBACK if `fn` throws) at READ COMMITTED.
   * Inside `fn`, use only the `tx` handed in: on PGlite, a query on the database itself would wait for the
   * transaction to end (deadlock); nested transactions are not supported.
   */
  transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export { DEFAULT_SEED };

/**
 * Owner given to the idempotency keys recorded before keys were scoped to callers. Until then only
 * order-service could place orders (@TrustedCaller('order-service') on InventoryController), so every
 * key recorded was one of its own: its retries across the upgrade still replay their outcomes.
 */
export const LEGACY_KEY_CALLER_ID = 'order-service';

export interface SqlStockStoreOptions {
  /** Stock to seed when the stock table is empty; defaults to DEFAULT_SEED. */
  seed?: Readonly<Record<string, number>>;
  /** Caller that owns the keys of a database created before keys were scoped to callers; default LEGACY_KEY_CALLER_ID. */
  legacyKeyCallerId?: string;
}

/** Key of the transaction-level advisory lock that serializes init() across processes sharing a server. */
const INIT_LOCK_KEY = 'inventory-service:stock-schema';

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS stock (
     product_id text PRIMARY KEY,
     quantity integer NOT NULL CHECK (quantity >= 0)
   )`,
  // A key is the caller's own: (caller_id, idempotency_key) names a record, the key alone does not.
  // status/body are NULL only inside the transaction that claimed the key: applyOrder sets them before
  // COMMIT, so no other transaction ever sees a key without its outcome.
  `CREATE TABLE IF NOT EXISTS applied_orders (
     caller_id text NOT NULL,
     idempotency_key text NOT NULL,
     product_id text NOT NULL,
     quantity integer NOT NULL,
     status integer,
     body jsonb,
     created_at timestamptz NOT NULL DEFAULT now(),
     PRIMARY KEY (caller_id, idempotency_key)
   )`,
];

interface RecordedRow {
  product_id: string;
  quantity: number;
  status: number;
  body: OrderOutcomeBody;
}

/**
 * StockStore in plain PostgreSQL, the same SQL on PGlite and on a PostgreSQL server.
 *
 * applyOrder runs one READ COMMITTED transaction:
 *  1. `INSERT INTO applied_orders ... ON CONFLICT (caller_id, idempotency_key) DO NOTHING RETURNING` claims
 *     the caller's key. On a multi-connection server, a concurrent transaction that inserted the same
 *     (caller, key) first makes this statement WAIT until it commits (then: conflict, nothing returned) or
 *     rolls back (then: our insert succeeds). So exactly one transaction per (caller, key) proceeds to step 2.
 *  2. Nothing returned: the key is taken by a committed transaction; read its recorded outcome and replay it
 *     (or 422 if the payload differs). Nothing is written.
 *  3. Key claimed: `SELECT quantity FROM stock ... FOR UPDATE` locks the product's row (concurrent orders on
 *     the same product queue here), then either 404, 409 (with the locked, exact available quantity) or
 *     `UPDATE stock SET quantity = quantity - $q ... AND quantity >= $q RETURNING quantity`.
 *  4. The outcome is written on the key's row and the transaction commits: stock change and key record are
 *     atomic. The body returned is the one read back from the jsonb column (RETURNING), so the first answer
 *     and every replay are the same JSON, key order included (jsonb reorders keys).
 * Locks are always taken in the order key row -> stock row, so there is no deadlock; the CHECK constraint
 * (quantity >= 0) is a last guard against negative stock.
 */
export class SqlStockStore implements StockStore {
  private readonly seed: Readonly<Record<string, number>>;
  private readonly legacyKeyCallerId: string;

  constructor(
    private readonly db: SqlDatabase,
    options: SqlStockStoreOptions = {},
  ) {
    this.seed = options.seed ?? DEFAULT_SEED;
    this.legacyKeyCallerId = options.legacyKeyCallerId ?? LEGACY_KEY_CALLER_ID;
    checkCallerId(this.legacyKeyCallerId);
    checkSeed(this.seed);
  }

  async init(): Promise<void> {
    await this.db.transaction(async (tx) => {
      // Two instances starting at once against one server would otherwise race on CREATE TABLE IF NOT EXISTS
      // (duplicate key on pg_type) and on the seed.
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [INIT_LOCK_KEY]);
      for (const ddl of SCHEMA) await tx.query(ddl);
      await scopeKeysToCallers(tx, this.legacyKeyCallerId);
      const { rows } = await tx.query('SELECT 1 AS one FROM stock LIMIT 1');
      if (rows.length > 0) return;
      for (const [productId, quantity] of Object.entries(this.seed)) {
        await tx.query('INSERT INTO stock (product_id, quantity) VALUES ($1, $2)', [productId, quantity]);
      }
    });
  }

  async applyOrder(callerId: string, idempotencyKey: string, productId: string, quantity: number): Promise<OrderOutcome> {
    checkOrder(callerId, idempotencyKey, productId, quantity);

    return this.db.transaction(async (tx) => {
      const claimed = await tx.query(
        `INSERT INTO applied_orders (caller_id, idempotency_key, product_id, quantity)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (caller_id, idempotency_key) DO NOTHING
         RETURNING idempotency_key`,
        [callerId, idempotencyKey, productId, quantity],
      );

      if (claimed.rows.length === 0) {
        const { rows } = await tx.query<RecordedRow>(
          'SELECT product_id, quantity, status, body FROM applied_orders WHERE caller_id = $1 AND idempotency_key = $2',
          [callerId, idempotencyKey],
        );
        const recorded = rows[0];
        if (!recorded || recorded.status == null) {
          // Cannot happen at READ COMMITTED (the conflicting row was committed with its outcome); fail loudly.
          throw new Error(`Idempotency key ${idempotencyKey} conflicts but has no recorded outcome`);
        }
        if (recorded.product_id !== productId || recorded.quantity !== quantity) {
          const used = { productId: recorded.product_id, quantity: recorded.quantity };
          return { ...idempotencyKeyReused(idempotencyKey, used, productId, quantity), replayed: false };
        }
        return { status: recorded.status, body: recorded.body, replayed: true };
      }

      const { status, body } = await decide(tx, productId, quantity);
      const { rows } = await tx.query<{ status: number; body: OrderOutcomeBody }>(
        `UPDATE applied_orders SET status = $3, body = $4::jsonb
         WHERE caller_id = $1 AND idempotency_key = $2
         RETURNING status, body`,
        [callerId, idempotencyKey, status, JSON.stringify(body)],
      );
      return { status: rows[0].status, body: rows[0].body, replayed: false };
    });
  }

  async getStock(productId: string): Promise<number | undefined> {
    const { rows } = await this.db.query<{ quantity: number }>('SELECT quantity FROM stock WHERE product_id = $1', [productId]);
    return rows[0]?.quantity;
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

async function decide(tx: SqlQueryable, productId: string, quantity: number): Promise<DecidedOutcome> {
  const locked = await tx.query<{ quantity: number }>('SELECT quantity FROM stock WHERE product_id = $1 FOR UPDATE', [productId]);
  if (locked.rows.length === 0) return productUnknown(productId);
  const available = locked.rows[0].quantity;
  if (quantity > available) return insufficientStock(productId, quantity, available);
  const updated = await tx.query<{ quantity: number }>(
    `UPDATE stock SET quantity = quantity - $2
     WHERE product_id = $1 AND quantity >= $2
     RETURNING quantity`,
    [productId, quantity],
  );
  if (updated.rows.length === 0) {
    // The row is locked by this transaction, so this cannot happen; roll back rather than record a lie.
    throw new Error(`Stock of ${productId} changed under its row lock`);
  }
  return orderApplied(productId, updated.rows[0].quantity);
}

/**
 * Migrates a database created before idempotency keys were scoped to callers (applied_orders keyed by
 * idempotency_key alone): its rows are given `legacyKeyCallerId` as their caller, and the primary key
 * becomes (caller_id, idempotency_key). Runs inside init()'s transaction, under its advisory lock, so
 * it happens once, completely or not at all; a database already migrated (or new) is left as it is.
 */
async function scopeKeysToCallers(tx: SqlQueryable, legacyKeyCallerId: string): Promise<void> {
  // Resolved through search_path, like every other statement of the store.
  const { rows } = await tx.query(
    `SELECT 1 AS one FROM pg_attribute
     WHERE attrelid = 'applied_orders'::regclass AND attname = 'caller_id' AND NOT attisdropped`,
  );
  if (rows.length > 0) return;
  await tx.query('ALTER TABLE applied_orders ADD COLUMN caller_id text');
  await tx.query('UPDATE applied_orders SET caller_id = $1', [legacyKeyCallerId]);
  await tx.query('ALTER TABLE applied_orders ALTER COLUMN caller_id SET NOT NULL');
  await tx.query('ALTER TABLE applied_orders DROP CONSTRAINT applied_orders_pkey');
  await tx.query('ALTER TABLE applied_orders ADD PRIMARY KEY (caller_id, idempotency_key)');
}
