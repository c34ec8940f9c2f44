import { describe, expect, it } from '@jest/globals';
import { MemoryStockData } from './memory-stock-store.js';
import { stockStoreOptions } from './stock-store-config.js';

const from = (env: Record<string, string>) => (name: string) => env[name];

describe('stockStoreOptions (INVENTORY_STOCK_STORE)', () => {
  it('defaults to the database: PostgreSQL with DATABASE_URL, else PGlite in INVENTORY_DATA_DIR', () => {
    expect(stockStoreOptions(from({}))).toEqual({ kind: 'database', databaseUrl: undefined, dataDir: undefined });
    expect(stockStoreOptions(from({ INVENTORY_STOCK_STORE: '', INVENTORY_DATA_DIR: '/srv/inventory' }))).toEqual({
      kind: 'database',
      databaseUrl: undefined,
      dataDir: '/srv/inventory',
    });
    expect(stockStoreOptions(from({ INVENTORY_STOCK_STORE: 'database', DATABASE_URL: 'postgres://db/inventory' }))).toEqual({
      kind: 'database',
      databaseUrl: 'postgres://db/inventory',
      dataDir: undefined,
    });
  });

  it("'memory' keeps the stock in this process; given data implies it", () => {
    expect(stockStoreOptions(from({ INVENTORY_STOCK_STORE: 'memory', INVENTORY_DATA_DIR: '/ignored' }))).toEqual({
      kind: 'memory',
      memoryData: undefined,
    });
    const data = new MemoryStockData();
    expect(stockStoreOptions(from({}), data)).toEqual({ kind: 'memory', memoryData: data });
    expect(stockStoreOptions(from({ INVENTORY_STOCK_STORE: 'memory' }), data).memoryData).toBe(data);
  });

  it('refuses an unknown kind and contradictions, naming the variables', () => {
    expect(() => stockStoreOptions(from({ INVENTORY_STOCK_STORE: 'redis' }))).toThrow(
      'INVENTORY_STOCK_STORE must be one of database, memory; got "redis"',
    );
    expect(() => stockStoreOptions(from({ INVENTORY_STOCK_STORE: 'memory', DATABASE_URL: 'postgres://db/inventory' }))).toThrow(
      /INVENTORY_STOCK_STORE=memory and DATABASE_URL are both set/,
    );
    expect(() => stockStoreOptions(from({ INVENTORY_STOCK_STORE: 'database' }), new MemoryStockData())).toThrow(
      /INVENTORY_STOCK_STORE=database/,
    );
  });
});
