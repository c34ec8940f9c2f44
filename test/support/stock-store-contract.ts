/**
 * The StockStore contract (apps/inventory-service/src/stock/stock-store.interface.ts) as one suite that
 * every store runs: the SQL store on PGlite and on a PostgreSQL server
 * (sql-stock-store.integration.spec.ts) and the memory store (memory-stock-store.spec.ts). Same
 * tests, so the same semantics: seeding, exact answers, idempotent replays of every recorded outcome,
 * 422 for a reused key, invalid input, reopening, concurrency, close().
 */
import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { StockStore } from '../../apps/inventory-service/src/stock/stock-store.interface.js';
import { prng } from './prng.js';

/** Where a store keeps its data: a directory, a database schema, a MemoryStockData. */
export interface StockStoreBackend {
  name: string;
  /** Run in beforeAll: anything the backend needs first (a server). */
  setUp?(): Promise<void>;
  /** A new, empty location (a string naming it); removed by cleanup(). */
  fresh(): Promise<string>;
  /** A new location that is cheaper to open than fresh() (on PGlite: a copy of a database made once); open() seeds it. */
  prepared(): Promise<string>;
  open(location: string): Promise<StockStore>;
  cleanup(): Promise<void>;
  /** What a cold start includes, for the timings line (e.g. 'incl. initdb'). */
  coldStartNote?: string;
}

/** The verified callers the orders come from. */
export const ORDER = 'order-service';
const AUDIT = 'audit-service';

const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;

/** Declares the contract's tests for `backend` in a describe block titled `title`; timings are pushed to `timings`. */
export function describeStockStoreContract(title: string, backend: StockStoreBackend, timings: string[] = []): void {
  describe(title, () => {
    const open: StockStore[] = [];
    const openStore = async (location: string) => {
      const store = await backend.open(location);
      open.push(store);
      return store;
    };
    const freshStore = async () => openStore(await backend.prepared());

    beforeAll(async () => backend.setUp?.(), 60_000);

    afterEach(async () => {
      for (const store of open.splice(0)) await store.close();
      await backend.cleanup();
    });

    it('creates the schema and seeds the stock (cold start timed)', async () => {
      const location = await backend.fresh();
      const start = process.hrtime.bigint();
      const store = await openStore(location);
      timings.push(
        `${backend.name}: cold start on an empty location (open + init${backend.coldStartNote ? `, ${backend.coldStartNote}` : ''}): ${ms(start).toFixed(0)} ms`,
      );

      expect(await store.getStock('P123')).toBe(100);
      expect(await store.getStock('P456')).toBe(50);
      expect(await store.getStock('P789')).toBe(0);
      expect(await store.getStock('P999')).toBeUndefined();

      await store.init(); // idempotent: no error, no reseed
      expect(await store.getStock('P123')).toBe(100);
    });

    it('applies an order and answers with the exact message', async () => {
      const store = await freshStore();
      const outcome = await store.applyOrder(ORDER, 'key-1', 'P123', 2);
      expect(outcome).toEqual({
        status: 200,
        body: { message: 'Inventory updated for product P123. New stock: 98', productId: 'P123', newStock: 98 },
        replayed: false,
      });
      expect(await store.getStock('P123')).toBe(98);
    });

    it('answers a repeated key with the first result and moves the stock once', async () => {
      const store = await freshStore();
      const first = await store.applyOrder(ORDER, 'key-1', 'P123', 2);
      const second = await store.applyOrder(ORDER, 'key-1', 'P123', 2);
      const third = await store.applyOrder(ORDER, 'key-1', 'P123', 2);
      expect(second).toEqual({ ...first, replayed: true });
      expect(third).toEqual({ ...first, replayed: true });
      expect(JSON.stringify(second.body)).toBe(JSON.stringify(first.body)); // same bytes, key order included
      expect(await store.getStock('P123')).toBe(98);
    });

    it('refuses an unknown product with 404 and records the refusal', async () => {
      const store = await freshStore();
      const outcome = await store.applyOrder(ORDER, 'key-404', 'P999', 1);
      expect(outcome).toEqual({
        status: 404,
        body: { message: 'Unknown product P999', productId: 'P999', reason: 'product_unknown' },
        replayed: false,
      });
      expect(await store.applyOrder(ORDER, 'key-404', 'P999', 1)).toEqual({ ...outcome, replayed: true });
      expect(await store.getStock('P999')).toBeUndefined();
    });

    it('refuses a quantity above the stock with 409, leaves the stock unchanged and records the refusal', async () => {
      const store = await freshStore();
      await store.applyOrder(ORDER, 'key-1', 'P123', 2);
      const refused = await store.applyOrder(ORDER, 'key-2', 'P123', 200);
      expect(refused).toEqual({
        status: 409,
        body: {
          message: 'Insufficient stock for product P123: requested 200, available 98',
          productId: 'P123',
          reason: 'insufficient_stock',
        },
        replayed: false,
      });
      expect(await store.getStock('P123')).toBe(98);
      expect(await store.applyOrder(ORDER, 'key-2', 'P123', 200)).toEqual({ ...refused, replayed: true });

      const empty = await store.applyOrder(ORDER, 'key-3', 'P789', 1);
      expect(empty.status).toBe(409);
      expect(empty.body.message).toBe('Insufficient stock for product P789: requested 1, available 0');
      expect(await store.getStock('P789')).toBe(0);

      // Taking exactly the whole stock is allowed.
      const all = await store.applyOrder(ORDER, 'key-4', 'P456', 50);
      expect(all.status).toBe(200);
      expect(all.body.newStock).toBe(0);
    });

    it('answers a key reused with another payload with 422 and does not record it', async () => {
      const store = await freshStore();
      const first = await store.applyOrder(ORDER, 'key-1', 'P123', 2);
      for (const [productId, quantity] of [
        ['P123', 3],
        ['P456', 2],
      ] as const) {
        const reused = await store.applyOrder(ORDER, 'key-1', productId, quantity);
        expect(reused.status).toBe(422);
        expect(reused.replayed).toBe(false);
        expect(reused.body.reason).toBe('idempotency_key_reused');
        expect(reused.body.productId).toBe(productId);
        expect(reused.body.newStock).toBeUndefined();
      }
      expect(await store.applyOrder(ORDER, 'key-1', 'P123', 2)).toEqual({ ...first, replayed: true });
      expect(await store.getStock('P123')).toBe(98);
      expect(await store.getStock('P456')).toBe(50);
    });

    it("scopes keys to the caller: another caller's same key is another order, never the first caller's answer", async () => {
      const store = await freshStore();
      const mine = await store.applyOrder(ORDER, 'key-1', 'P123', 2);
      expect(mine.body.newStock).toBe(98);

      const theirs = await store.applyOrder(AUDIT, 'key-1', 'P123', 2);
      expect(theirs).toEqual({
        status: 200,
        body: { message: 'Inventory updated for product P123. New stock: 96', productId: 'P123', newStock: 96 },
        replayed: false,
      });
      // Another payload under a key another caller used: applied, not a 422 describing that caller's order.
      expect(await store.applyOrder(AUDIT, 'key-2', 'P456', 1)).toMatchObject({ status: 200, replayed: false });
      expect(await store.applyOrder(ORDER, 'key-2', 'P456', 3)).toMatchObject({ status: 200, replayed: false, body: { newStock: 46 } });

      // Each caller's retries replay its own outcome.
      expect(await store.applyOrder(ORDER, 'key-1', 'P123', 2)).toEqual({ ...mine, replayed: true });
      expect(await store.applyOrder(AUDIT, 'key-1', 'P123', 2)).toEqual({ ...theirs, replayed: true });
      expect(await store.getStock('P123')).toBe(96);
      expect(await store.getStock('P456')).toBe(46);
    });

    it('applies 20 concurrent same-key orders from each of two callers exactly once per caller', async () => {
      const store = await freshStore();
      const outcomes = await Promise.all(
        Array.from({ length: 40 }, (_, i) => store.applyOrder(i % 2 ? ORDER : AUDIT, 'shared-key', 'P123', 5)),
      );
      expect(outcomes.filter((o) => !o.replayed)).toHaveLength(2);
      expect(new Set(outcomes.map((o) => o.body.newStock))).toEqual(new Set([95, 90]));
      expect(await store.getStock('P123')).toBe(90);
    });

    it('rejects invalid input before touching the database', async () => {
      const store = await freshStore();
      for (const quantity of [0, -1, 1.5, Number.NaN, 2 ** 31]) {
        await expect(store.applyOrder(ORDER, 'key-bad', 'P123', quantity)).rejects.toThrow(RangeError);
      }
      await expect(store.applyOrder(ORDER, '', 'P123', 1)).rejects.toThrow(RangeError);
      await expect(store.applyOrder('', 'key-bad', 'P123', 1)).rejects.toThrow(RangeError);
      await expect(store.applyOrder(ORDER, 'key-bad', '', 1)).rejects.toThrow(RangeError);
      expect(await store.getStock('P123')).toBe(100);
      // Nothing was recorded under the key: it still works for a valid order.
      expect((await store.applyOrder(ORDER, 'key-bad', 'P123', 1)).status).toBe(200);
    });

    it('keeps stock and keys across close and reopen', async () => {
      const location = await backend.prepared();
      const store = await openStore(location);
      const applied = await store.applyOrder(ORDER, 'key-1', 'P123', 2);
      const refused = await store.applyOrder(ORDER, 'key-2', 'P123', 500);
      const unknown = await store.applyOrder(ORDER, 'key-3', 'P999', 1);
      await store.close();
      open.splice(open.indexOf(store), 1);

      const start = process.hrtime.bigint();
      const reopened = await openStore(location);
      timings.push(`${backend.name}: reopen of an existing location (open + init): ${ms(start).toFixed(0)} ms`);

      expect(await reopened.getStock('P123')).toBe(98);
      expect(await reopened.applyOrder(ORDER, 'key-1', 'P123', 2)).toEqual({ ...applied, replayed: true });
      expect(await reopened.applyOrder(ORDER, 'key-2', 'P123', 500)).toEqual({ ...refused, replayed: true });
      expect(await reopened.applyOrder(ORDER, 'key-3', 'P999', 1)).toEqual({ ...unknown, replayed: true });
      expect(await reopened.getStock('P123')).toBe(98);
      expect((await reopened.applyOrder(ORDER, 'key-4', 'P123', 1)).body.newStock).toBe(97);
    });

    it('never goes below zero with 200 concurrent orders', async () => {
      const store = await freshStore();
      const random = prng(20240601);
      const orders = Array.from({ length: 200 }, (_, i) => ({ key: `order-${i}`, quantity: 1 + Math.floor(random() * 3) }));

      const start = process.hrtime.bigint();
      const outcomes = await Promise.all(orders.map((o) => store.applyOrder(ORDER, o.key, 'P123', o.quantity)));
      const elapsed = ms(start);
      timings.push(`${backend.name}: 200 concurrent orders: ${elapsed.toFixed(0)} ms (${(elapsed / 200).toFixed(2)} ms/order)`);

      const accepted = orders.filter((_, i) => outcomes[i].status === 200);
      const refused = outcomes.filter((o) => o.status === 409);
      expect(accepted.length + refused.length).toBe(200);
      expect(outcomes.every((o) => !o.replayed)).toBe(true);

      const finalStock = await store.getStock('P123');
      const acceptedSum = accepted.reduce((sum, o) => sum + o.quantity, 0);
      expect(finalStock).toBe(100 - acceptedSum);
      expect(finalStock).toBeGreaterThanOrEqual(0);

      // Every success left a distinct, non-negative stock (one decrement at a time, none lost).
      const newStocks = outcomes.filter((o) => o.status === 200).map((o) => o.body.newStock!);
      expect(newStocks.every((n) => n >= 0)).toBe(true);
      expect(new Set(newStocks).size).toBe(accepted.length);
      expect(Math.min(...newStocks)).toBe(finalStock);

      // Every refusal was right when it was made, and the stock only decreased afterwards.
      expect(refused.length).toBeGreaterThan(0); // ~400 units requested for 100 in stock
      for (const o of refused) {
        const [, requested, available] = /requested (\d+), available (\d+)$/.exec(o.body.message)!.map(Number);
        expect(requested).toBeGreaterThan(available);
        expect(finalStock).toBeLessThanOrEqual(available);
      }
      // Orders of 1 are refused only once the stock is exhausted.
      const refusedOnes = orders.filter((o, i) => o.quantity === 1 && outcomes[i].status === 409);
      if (refusedOnes.length > 0) expect(finalStock).toBe(0);

      // Replaying all 200 keys changes nothing.
      const replays = await Promise.all(orders.map((o) => store.applyOrder(ORDER, o.key, 'P123', o.quantity)));
      replays.forEach((r, i) => expect(r).toEqual({ ...outcomes[i], replayed: true }));
      expect(await store.getStock('P123')).toBe(finalStock);
    });

    it('applies 50 concurrent requests with the same key exactly once', async () => {
      const store = await freshStore();
      const outcomes = await Promise.all(Array.from({ length: 50 }, () => store.applyOrder(ORDER, 'same-key', 'P123', 3)));
      const applied = outcomes.filter((o) => !o.replayed);
      expect(applied).toHaveLength(1);
      expect(applied[0].status).toBe(200);
      expect(applied[0].body.message).toBe('Inventory updated for product P123. New stock: 97');
      const body = JSON.stringify(applied[0].body);
      for (const o of outcomes) {
        expect(o.status).toBe(200);
        expect(JSON.stringify(o.body)).toBe(body);
      }
      expect(await store.getStock('P123')).toBe(97);
    });

    it('lets close() finish the orders already started', async () => {
      const store = await backend.open(await backend.prepared());
      const pending = Array.from({ length: 20 }, (_, i) => store.applyOrder(ORDER, `k-${i}`, 'P123', 1));
      await store.close();
      const outcomes = await Promise.all(pending);
      expect(outcomes.every((o) => o.status === 200)).toBe(true);
    });

    it('refuses calls once closed', async () => {
      const store = await backend.open(await backend.prepared());
      await store.close();
      await expect(store.applyOrder(ORDER, 'key-1', 'P123', 1)).rejects.toThrow(/closed/);
      await expect(store.getStock('P123')).rejects.toThrow(/closed/);
    });
  });
}
