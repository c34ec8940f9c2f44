import type { CreateStockStoreOptions, StockStoreKind } from './create-stock-store.js';
import type { MemoryStockData } from './memory-stock-store.js';

const KINDS: readonly StockStoreKind[] = ['database', 'memory'];

/**
 * The stock store the environment asks for:
 *   INVENTORY_STOCK_STORE  'database' (default): DATABASE_URL's PostgreSQL server, else PGlite in
 *                          INVENTORY_DATA_DIR; 'memory': in this process, lost on exit (tests, demos).
 * `memoryData` (from code, never from the environment) is the data a memory store opens; giving it
 * implies 'memory'.
 *
 * Contradictions fail at startup, naming the variables: a memory store with DATABASE_URL set would look
 * like a replica sharing its stock while selling from its own.
 */
export function stockStoreOptions(get: (name: string) => string | undefined, memoryData?: MemoryStockData): CreateStockStoreOptions {
  const configured = get('INVENTORY_STOCK_STORE') || undefined;
  if (configured !== undefined && !KINDS.includes(configured as StockStoreKind)) {
    throw new Error(`INVENTORY_STOCK_STORE must be one of ${KINDS.join(', ')}; got "${configured}"`);
  }
  const kind = (configured as StockStoreKind | undefined) ?? (memoryData ? 'memory' : 'database');
  const databaseUrl = get('DATABASE_URL') || undefined;
  if (kind === 'memory') {
    if (databaseUrl) {
      throw new Error('INVENTORY_STOCK_STORE=memory and DATABASE_URL are both set: a memory stock is not shared; unset one of them');
    }
    return { kind, memoryData };
  }
  if (memoryData) throw new Error('In-memory stock data was given, but INVENTORY_STOCK_STORE=database');
  return { kind, databaseUrl, dataDir: get('INVENTORY_DATA_DIR') || undefined };
}
