import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { startPostgresServer, type PostgresServerHandle } from '../../../../test/support/postgres-server.js';
import { createStockStore, DEFAULT_DATA_DIR } from './create-stock-store.js';
import { PGliteDatabase } from './pglite-database.js';
import { PostgresDatabase } from './postgres-database.js';
import { DEFAULT_SEED, LEGACY_KEY_CALLER_ID, SqlStockStore, type SqlDatabase } from './sql-stock-store.js';
import type { OrderOutcome, StockStore } from './stock-store.interface.js';

/**
 * The same suite runs on PGlite (in temporary directories) and on a real PostgreSQL server (each test in a
 * schema of its own, dropped afterwards). The server is a throwaway one started for this file by
 * test/support/postgres-server.ts; without the server binaries the PostgreSQL tests FAIL, they never skip.
 * TEST_DATABASE_URL, when set, points them at an existing server instead, e.g.
 *   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres
 */

interface Backend {
  name: string;
  /** Run in beforeAll: anything the backend needs first (a server). */
  setUp?(): Promise<void>;
  /** A new, empty database location; removed by cleanup(). */
  fresh(): Promise<string>;
  /** A new location already initialized with the default seed (cheaper than fresh() + init on PGlite). */
  prepared(): Promise<string>;
  open(location: string): Promise<StockStore>;
  /** The bare database at `location`, without the store (to set up an older schema). */
  database(location: string): Promise<SqlDatabase>;
  cleanup(): Promise<void>;
}

/** The verified callers the orders come from. */
const ORDER = 'order-service';
const AUDIT = 'audit-service';

const timings: string[] = [];
const templateDirs: string[] = [];
const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;

/** Started on first use (so a run filtered to PGlite tests needs no server) and stopped in afterAll. */
let server: Promise<PostgresServerHandle> | undefined;
async function postgresUrl(): Promise<string> {
  if (process.env.TEST_DATABASE_URL) return process.env.TEST_DATABASE_URL;
  server ??= startPostgresServer();
  return (await server).url;
}

function pgliteBackend(): Backend {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'inventory-stock-'));
    dirs.push(dir);
    return dir;
  };
  // initdb costs ~2 s per data directory: most tests get a copy of one directory initialized once.
  let template: Promise<string> | undefined;
  const makeTemplate = async () => {
    const dir = mkdtempSync(join(tmpdir(), 'inventory-stock-template-'));
    templateDirs.push(dir);
    await (await createStockStore({ dataDir: dir })).close();
    return dir;
  };
  return {
    name: 'PGlite',
    async fresh() {
      return join(tempDir(), 'nested', 'pgdata'); // createStockStore must create it recursively
    },
    async prepared() {
      const dataDir = join(tempDir(), 'pgdata');
      cpSync(await (template ??= makeTemplate()), dataDir, { recursive: true });
      return dataDir;
    },
    open: (dataDir) => createStockStore({ dataDir }),
    database: (dataDir) => PGliteDatabase.open(dataDir),
    async cleanup() {
      for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgresBackend(): Backend {
  const schemas: string[] = [];
  let databaseUrl = '';
  const admin = () => new pg.Client({ connectionString: databaseUrl });
  return {
    name: 'PostgreSQL server',
    async setUp() {
      databaseUrl = await postgresUrl();
    },
    async fresh() {
      const schema = `inventory_test_${randomUUID().replaceAll('-', '')}`;
      const client = admin();
      await client.connect();
      try {
        await client.query(`CREATE SCHEMA ${schema}`);
      } finally {
        await client.end();
      }
      schemas.push(schema);
      const url = new URL(databaseUrl);
      url.searchParams.set('options', `-c search_path=${schema}`);
      return url.toString();
    },
    prepared() {
      return this.fresh();
    },
    open: (url) => createStockStore({ databaseUrl: url }),
    database: (url) => PostgresDatabase.connect(url, { max: 1 }),
    async cleanup() {
      if (schemas.length === 0) return;
      const client = admin();
      await client.connect();
      try {
        for (const schema of schemas.splice(0)) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

/** Small deterministic PRNG (mulberry32), so a failing concurrent run can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const backends: Backend[] = [pgliteBackend(), postgresBackend()];

afterAll(async () => {
  await (await server?.catch(() => undefined))?.stop();
  for (const dir of templateDirs) rmSync(dir, { recursive: true, force: true });
  if (timings.length > 0) console.log(`Stock store timings:\n  ${timings.join('\n  ')}`);
});

describe.each(backends)('SqlStockStore on $name', (backend) => {
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
    timings.push(`${backend.name}: cold start on an empty location (open + init${backend.name === 'PGlite' ? ', incl. initdb' : ''}): ${ms(start).toFixed(0)} ms`);

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
    for (const [productId, quantity] of [['P123', 3], ['P456', 2]] as const) {
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
    // Another payload under the same key from another caller: applied, not a 422 describing the first order.
    expect(await store.applyOrder(AUDIT, 'key-2', 'P456', 1)).toMatchObject({ status: 200, replayed: false });
    const reusedByOther = await store.applyOrder(ORDER, 'key-2', 'P456', 3);
    expect(reusedByOther).toMatchObject({ status: 200, replayed: false, body: { newStock: 46 } });

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

  it(`migrates keys recorded before they were scoped to callers: they become ${LEGACY_KEY_CALLER_ID}'s`, async () => {
    const location = await backend.fresh();
    const legacy = await backend.database(location);
    try {
      // The schema and rows as the store wrote them before keys had a caller.
      await legacy.query('CREATE TABLE stock (product_id text PRIMARY KEY, quantity integer NOT NULL CHECK (quantity >= 0))');
      await legacy.query(`INSERT INTO stock VALUES ('P123', 98), ('P456', 50), ('P789', 0)`);
      await legacy.query(
        `CREATE TABLE applied_orders (
           idempotency_key text PRIMARY KEY, product_id text NOT NULL, quantity integer NOT NULL,
           status integer, body jsonb, created_at timestamptz NOT NULL DEFAULT now())`,
      );
      await legacy.query(
        `INSERT INTO applied_orders (idempotency_key, product_id, quantity, status, body) VALUES ($1, 'P123', 2, 200, $2::jsonb)`,
        ['old-key', JSON.stringify({ message: 'Inventory updated for product P123. New stock: 98', productId: 'P123', newStock: 98 })],
      );
    } finally {
      await legacy.close();
    }

    const store = await openStore(location);
    // The caller that made the order still gets its recorded outcome on a retry; nothing moves.
    expect(await store.applyOrder(ORDER, 'old-key', 'P123', 2)).toEqual({
      status: 200,
      body: { message: 'Inventory updated for product P123. New stock: 98', productId: 'P123', newStock: 98 },
      replayed: true,
    });
    expect(await store.getStock('P123')).toBe(98);
    // Another caller's same key is its own order.
    expect(await store.applyOrder(AUDIT, 'old-key', 'P123', 2)).toMatchObject({ status: 200, replayed: false, body: { newStock: 96 } });

    // Migrating twice changes nothing (init runs at every start).
    await store.close();
    open.splice(open.indexOf(store), 1);
    const reopened = await openStore(location);
    expect(await reopened.applyOrder(ORDER, 'old-key', 'P123', 2)).toMatchObject({ replayed: true, body: { newStock: 98 } });
    expect(await reopened.applyOrder(AUDIT, 'old-key', 'P123', 2)).toMatchObject({ replayed: true, body: { newStock: 96 } });
    expect(await reopened.getStock('P123')).toBe(96);
  });

  it('rejects invalid input before touching the database', async () => {
    const store = await freshStore();
    for (const quantity of [0, -1, 1.5, Number.NaN, 2 ** 31]) {
      await expect(store.applyOrder(ORDER, 'key-bad', 'P123', quantity)).rejects.toThrow(RangeError);
    }
    await expect(store.applyOrder(ORDER, '', 'P123', 1)).rejects.toThrow(RangeError);
    await expect(store.applyOrder(ORDER, 'key-bad', '', 1)).rejects.toThrow(RangeError);
    await expect(store.applyOrder('', 'key-bad', 'P123', 1)).rejects.toThrow(RangeError);
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
});

describe('SqlStockStore on a PostgreSQL server (multi-connection)', () => {
  const backend = postgresBackend();
  beforeAll(async () => backend.setUp!(), 60_000);
  afterEach(async () => backend.cleanup());

  it('initializes concurrently and applies same-key orders from two pools exactly once', async () => {
    const location = await backend.fresh();
    const [a, b] = await Promise.all([backend.open(location), backend.open(location)]);
    try {
      expect(await a.getStock('P123')).toBe(100);
      const outcomes = await Promise.all(
        Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).applyOrder(ORDER, `key-${i % 10}`, 'P123', 1)),
      );
      expect(outcomes.filter((o) => !o.replayed)).toHaveLength(10);
      expect(await b.getStock('P123')).toBe(90);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('PGlite adapter', () => {
  it('serializes concurrent transactions and keeps plain queries out of them', async () => {
    const db = await PGliteDatabase.open('memory://');
    try {
      await db.query('CREATE TABLE counter (n integer NOT NULL)');
      await db.query('INSERT INTO counter VALUES (0)');
      const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

      // Read-modify-write with an await between the read and the write: interleaving would lose updates.
      await Promise.all(
        Array.from({ length: 20 }, () =>
          db.transaction(async (tx) => {
            const { rows } = await tx.query<{ n: number }>('SELECT n FROM counter');
            await sleep(2);
            await tx.query('UPDATE counter SET n = $1', [rows[0].n + 1]);
          }),
        ),
      );
      expect((await db.query<{ n: number }>('SELECT n FROM counter')).rows[0].n).toBe(20);

      // A plain query issued while a transaction is open waits for it, and never sees its uncommitted write.
      let failing!: Promise<void>;
      const sawUncommitted = await new Promise<number>((resolve) => {
        failing = db.transaction(async (tx) => {
          await tx.query('UPDATE counter SET n = 999');
          void db.query<{ n: number }>('SELECT n FROM counter').then((r) => resolve(r.rows[0].n));
          await sleep(20);
          throw new Error('roll back');
        });
      });
      await expect(failing).rejects.toThrow('roll back');
      expect(sawUncommitted).toBe(20);
    } finally {
      await db.close();
    }
    await expect(db.query('SELECT 1')).rejects.toThrow('closed');
  });

  it("supports 'memory://' without touching the disk (timed)", async () => {
    const start = process.hrtime.bigint();
    const store = await createStockStore({ dataDir: 'memory://' });
    timings.push(`PGlite: cold start in memory (open + init, incl. initdb): ${ms(start).toFixed(0)} ms`);
    try {
      expect(await store.getStock('P123')).toBe(100);
      expect(existsSync('memory:')).toBe(false);
    } finally {
      await store.close();
    }
  });

  it(`defaults to ${DEFAULT_DATA_DIR} under the working directory`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'inventory-cwd-'));
    const cwd = process.cwd();
    try {
      process.chdir(dir);
      const store = await createStockStore();
      process.chdir(cwd);
      await store.close();
      expect(existsSync(join(dir, 'data', 'inventory', 'PG_VERSION'))).toBe(true);
    } finally {
      process.chdir(cwd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('seeds a custom stock and rejects an invalid seed', async () => {
    const store = await createStockStore({ dataDir: 'memory://', seed: { A1: 5 } });
    try {
      expect(await store.getStock('A1')).toBe(5);
      expect(await store.getStock('P123')).toBeUndefined();
    } finally {
      await store.close();
    }
    expect(DEFAULT_SEED).toEqual({ P123: 100, P456: 50, P789: 0 });
    expect(() => new SqlStockStore({} as never, { seed: { A1: -1 } })).toThrow(RangeError);
  });
});
