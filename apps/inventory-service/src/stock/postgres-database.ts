import pg from 'pg';
import type { SqlDatabase, SqlQueryable } from './sql-stock-store.js';

export interface PostgresDatabaseOptions {
  /** Pool size (default 10). */
  max?: number;
}

/**
 * SqlDatabase on a PostgreSQL server through a `pg` Pool: many connections, so transactions really run in
 * parallel and the row locks of SqlStockStore's SQL do the serializing.
 * Each transaction is pinned to one pooled client and opened with `BEGIN ISOLATION LEVEL READ COMMITTED`,
 * whatever the server's default_transaction_isolation, because the idempotency-key protocol relies on
 * READ COMMITTED (after INSERT ... ON CONFLICT DO NOTHING waited for a concurrent transaction, the next
 * statement must see the row that transaction committed).
 */
export class PostgresDatabase implements SqlDatabase {
  private readonly inFlight = new Set<Promise<unknown>>();
  private closing: Promise<void> | undefined;

  private constructor(private readonly pool: pg.Pool) {}

  /** Connects to `databaseUrl` (checked with one round trip, so a bad URL fails at startup). */
  static async connect(databaseUrl: string, options: PostgresDatabaseOptions = {}): Promise<PostgresDatabase> {
    const pool = new pg.Pool({ connectionString: databaseUrl, max: options.max ?? 10 });
    // An idle client whose connection dies emits 'error' on the pool; without a listener it would crash
    // the process. The pool discards that client and the next query gets a fresh one.
    pool.on('error', () => undefined);
    try {
      await pool.query('SELECT 1');
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    }
    return new PostgresDatabase(pool);
  }

  query<R = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<{ rows: R[] }> {
    return this.track(async () => {
      const result = await this.pool.query(sql, params);
      return { rows: result.rows as R[] };
    });
  }

  transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T> {
    return this.track(() => this.runTransaction(fn));
  }

  /** Waits for the queries and transactions already started, then ends the pool. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled([...this.inFlight]);
      await this.pool.end();
    })();
    return this.closing;
  }

  private track<T>(work: () => Promise<T>): Promise<T> {
    if (this.closing) return Promise.reject(new Error('The PostgreSQL database is closed'));
    const promise = work();
    this.inFlight.add(promise);
    const forget = () => this.inFlight.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  private async runTransaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // Set when the connection's state is unknown (BEGIN, COMMIT or ROLLBACK failed): release(error) destroys
    // the client instead of handing a possibly broken or mid-transaction connection back to the pool.
    let discard: Error | undefined;
    try {
      try {
        await client.query('BEGIN ISOLATION LEVEL READ COMMITTED');
      } catch (error) {
        discard = asError(error);
        throw error;
      }
      const tx: SqlQueryable = {
        query: async <R = Record<string, unknown>>(sql: string, params: unknown[] = []) => {
          const result = await client.query(sql, params);
          return { rows: result.rows as R[] };
        },
      };
      let value: T;
      try {
        value = await fn(tx);
      } catch (error) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackError) {
          discard = asError(rollbackError);
        }
        throw error;
      }
      try {
        await client.query('COMMIT');
      } catch (error) {
        discard = asError(error);
        throw error;
      }
      return value;
    } finally {
      client.release(discard);
    }
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
