import { resolve } from 'node:path';
import { MemoryStockStore, type MemoryStockData } from './memory-stock-store.js';
import { SqlStockStore, type SqlDatabase } from './sql-stock-store.js';
import type { StockStore } from './stock-store.interface.js';

/** Where PGlite keeps the inventory when no dataDir is given, relative to the process's working directory. */
export const DEFAULT_DATA_DIR = './data/inventory';

/** 'database': PostgreSQL (databaseUrl) or PGlite (dataDir). 'memory': this process only (MemoryStockStore). */
export type StockStoreKind = 'database' | 'memory';

export interface CreateStockStoreOptions {
  /** Default 'database'. */
  kind?: StockStoreKind;
  /**
   * kind 'memory': the data to open (an earlier store's, to find its stock and keys again, as after a
   * restart on the same database); default a fresh MemoryStockData.
   */
  memoryData?: MemoryStockData;
  /** PostgreSQL server URL (e.g. process.env.DATABASE_URL). When set, a `pg` Pool is used and dataDir is ignored. */
  databaseUrl?: string;
  /**
   * PGlite data directory (created recursively), resolved against process.cwd(); 'memory://' for a
   * throw-away in-memory database. Default DEFAULT_DATA_DIR ('./data/inventory').
   */
  dataDir?: string;
  /** Stock seeded into an empty stock table; default DEFAULT_SEED (P123: 100, P456: 50, P789: 0). */
  seed?: Readonly<Record<string, number>>;
}

/**
 * Opens the database (PostgreSQL server if databaseUrl is set, else PGlite), or the memory store with kind
 * 'memory', and returns a StockStore whose init() has already run (schema created, stock seeded if empty).
 * Close it on shutdown (store.close()).
 *
 * In a Nest module:
 *   { provide: STOCK_STORE, useFactory: () => createStockStore({ databaseUrl: process.env.DATABASE_URL }) }
 */
export async function createStockStore(options: CreateStockStoreOptions = {}): Promise<StockStore> {
  if (options.kind === 'memory') {
    const store = new MemoryStockStore(options.memoryData, { seed: options.seed });
    await store.init();
    return store;
  }
  const db = await openDatabase(options);
  try {
    const store = new SqlStockStore(db, { seed: options.seed });
    await store.init();
    return store;
  } catch (error) {
    await db.close().catch(() => undefined);
    throw error;
  }
}

async function openDatabase(options: CreateStockStoreOptions): Promise<SqlDatabase> {
  if (options.databaseUrl) {
    // Loaded only on this path, so the embedded default never loads `pg`.
    const { PostgresDatabase } = await import('./postgres-database.js');
    return PostgresDatabase.connect(options.databaseUrl);
  }
  // Loaded only on this path too, so neither a PostgreSQL server nor the memory store loads PGlite.
  const { PGLITE_IN_MEMORY, PGliteDatabase } = await import('./pglite-database.js');
  const dataDir = options.dataDir ?? DEFAULT_DATA_DIR;
  return PGliteDatabase.open(dataDir === PGLITE_IN_MEMORY ? dataDir : resolve(process.cwd(), dataDir));
}
