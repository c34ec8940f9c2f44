import { describe, expect, it } from '@jest/globals';
import { describeStockStoreContract, ORDER, type StockStoreBackend } from '../../../../test/support/stock-store-contract.js';
import { createStockStore } from './create-stock-store.js';
import { MemoryStockData, MemoryStockStore } from './memory-stock-store.js';

/**
 * The StockStore contract (test/support/stock-store-contract.ts, which the SQL store runs on PGlite and
 * PostgreSQL) on the memory store, then what is particular to it. A location is a MemoryStockData: what
 * outlives a store, as a database does.
 */

function memoryBackend(): StockStoreBackend {
  const locations = new Map<string, MemoryStockData>();
  const fresh = async () => {
    const name = `memory-${locations.size + 1}`;
    locations.set(name, new MemoryStockData());
    return name;
  };
  return {
    name: 'memory',
    fresh,
    async prepared() {
      const name = await fresh();
      await createStockStore({ kind: 'memory', memoryData: locations.get(name) }).then((store) => store.close());
      return name;
    },
    open: (name) => createStockStore({ kind: 'memory', memoryData: locations.get(name)! }),
    async cleanup() {
      locations.clear();
    },
  };
}

describeStockStoreContract('MemoryStockStore', memoryBackend());

describe('MemoryStockStore in particular', () => {
  it('starts from fresh data when given none, and seeds a custom stock', async () => {
    const store = await createStockStore({ kind: 'memory', seed: { A1: 5 } });
    expect(await store.getStock('A1')).toBe(5);
    expect(await store.getStock('P123')).toBeUndefined();
    const other = await createStockStore({ kind: 'memory' });
    expect(await other.getStock('P123')).toBe(100);
    expect(() => new MemoryStockStore(undefined, { seed: { A1: -1 } })).toThrow(RangeError);
    expect(() => new MemoryStockStore(undefined, { seed: { A1: 2 ** 31 } })).toThrow(RangeError);
  });

  it('does not reseed data that already holds stock, even when it was all sold', async () => {
    const data = new MemoryStockData();
    const first = await createStockStore({ kind: 'memory', memoryData: data, seed: { A1: 1 } });
    expect((await first.applyOrder(ORDER, 'key-1', 'A1', 1)).body.newStock).toBe(0);
    await first.close();
    const again = await createStockStore({ kind: 'memory', memoryData: data, seed: { A1: 1 } });
    expect(await again.getStock('A1')).toBe(0);
  });

  it('hands out copies: changing a returned body changes neither the record nor the next replay', async () => {
    const store = await createStockStore({ kind: 'memory' });
    const first = await store.applyOrder(ORDER, 'key-1', 'P123', 2);
    first.body.newStock = 0;
    first.body.message = 'tampered';
    const replay = await store.applyOrder(ORDER, 'key-1', 'P123', 2);
    expect(replay.body).toEqual({ message: 'Inventory updated for product P123. New stock: 98', productId: 'P123', newStock: 98 });
    replay.body.message = 'tampered again';
    expect((await store.applyOrder(ORDER, 'key-1', 'P123', 2)).body.message).toBe('Inventory updated for product P123. New stock: 98');
  });
});
