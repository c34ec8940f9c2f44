import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { SqlDatabase, SqlQueryable } from './sql-stock-store.js';

export const PGLITE_IN_MEMORY = 'memory://';

/**
 * SqlDatabase on PGlite (PostgreSQL compiled to WASM, in this process), persisted in a directory or in memory.
 *
 * Concurrency: PGlite is ONE connection. Its `query()`, `exec()` and `transaction()` all go through one
 * internal FIFO mutex (`_runExclusiveTransaction`, checked in @electric-sql/pglite 0.5.16): a transaction
 * holds it from BEGIN to COMMIT/ROLLBACK, so concurrent `transaction()` calls run one after the other and a
 * plain `query()` never slips into someone else's transaction. No mutex of our own is needed; the spec
 * checks this (interleaved read-modify-write with an `await` between read and write loses no update).
 * Consequences: inside `transaction(fn)`, only the `tx` may be used (a query on the database would wait
 * for the transaction that is waiting for it: deadlock), and orders are applied one at a time: throughput
 * is bounded by one transaction's latency, not by the number of callers.
 *
 * Only one process may open a given data directory at a time (PGlite does not lock it).
 */
export class PGliteDatabase implements SqlDatabase {
  private readonly inFlight = new Set<Promise<unknown>>();
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly pg: PGlite,
    /** Absolute data directory, or 'memory://'. */
    readonly dataDir: string,
  ) {}

  /** Opens (creating it if needed: `initdb` on first use) the database in `dataDir` or in memory ('memory://'). */
  static async open(dataDir: string): Promise<PGliteDatabase> {
    const isMemory = dataDir === PGLITE_IN_MEMORY;
    const location = isMemory ? PGLITE_IN_MEMORY : resolve(dataDir);
    if (!isMemory) mkdirSync(location, { recursive: true });
    const pg = await PGlite.create(location);
    return new PGliteDatabase(pg, location);
  }

  query<R = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<{ rows: R[] }> {
    return this.track(async () => {
      const result = await this.pg.query<R>(sql, params);
      return { rows: result.rows };
    });
  }

  transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T> {
    return this.track(() =>
      this.pg.transaction(async (tx: Transaction) => {
        const handle: SqlQueryable = {
          query: async <R = Record<string, unknown>>(sql: string, params: unknown[] = []) => {
            const result = await tx.query<R>(sql, params);
            return { rows: result.rows };
          },
        };
        return fn(handle);
      }),
    );
  }

  /** Waits for the queries and transactions already started, then closes PGlite (flushes the data directory). */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled([...this.inFlight]);
      await this.pg.close();
    })();
    return this.closing;
  }

  private track<T>(work: () => Promise<T>): Promise<T> {
    if (this.closing) return Promise.reject(new Error('The PGlite database is closed'));
    const promise = work();
    this.inFlight.add(promise);
    const forget = () => this.inFlight.delete(promise);
    promise.then(forget, forget);
    return promise;
  }
}
