import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { startPostgresServer, type PostgresServerHandle } from '../../../../test/support/postgres-server.js';
import { describeStockStoreContract, ORDER, type StockStoreBackend } from '../../../../test/support/stock-store-contract.js';
import { createStockStore } from './create-stock-store.js';
import { PostgresDatabase } from './postgres-database.js';
import { LEGACY_KEY_CALLER_ID } from './sql-stock-store.js';

/**
 * SqlStockStore on a real PostgreSQL server: the StockStore contract (test/support/stock-store-contract.ts,
 * which PGlite and the memory store run too), each test in a schema of its own (dropped afterwards), then
 * what only a multi-connection server shows. An integration test: the server is a throwaway one started
 * for this file by test/support/postgres-server.ts; without the server binaries these tests FAIL, they
 * never skip. TEST_DATABASE_URL, when set, points them at an existing server instead, e.g.
 *   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres
 */

const timings: string[] = [];

/** Started on first use and stopped in afterAll. */
let server: Promise<PostgresServerHandle> | undefined;
async function postgresUrl(): Promise<string> {
  if (process.env.TEST_DATABASE_URL) return process.env.TEST_DATABASE_URL;
  server ??= startPostgresServer();
  return (await server).url;
}

function postgresBackend(): StockStoreBackend {
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

afterAll(async () => {
  await (await server?.catch(() => undefined))?.stop();
  if (timings.length > 0) console.log(`Stock store timings:\n  ${timings.join('\n  ')}`);
});

describeStockStoreContract('SqlStockStore on PostgreSQL server', postgresBackend(), timings);

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
  it(`migrates keys recorded before they were scoped to callers: they become ${LEGACY_KEY_CALLER_ID}'s`, async () => {
    const location = await backend.fresh();
    const legacy = await PostgresDatabase.connect(location, { max: 1 });
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

    const store = await backend.open(location);
    try {
      // The caller that made the order still gets its recorded outcome on a retry; nothing moves.
      expect(await store.applyOrder(ORDER, 'old-key', 'P123', 2)).toMatchObject({ status: 200, replayed: true, body: { newStock: 98 } });
      expect(await store.getStock('P123')).toBe(98);
      // Another caller's same key is its own order.
      expect(await store.applyOrder('audit-service', 'old-key', 'P123', 2)).toMatchObject({
        status: 200,
        replayed: false,
        body: { newStock: 96 },
      });
    } finally {
      await store.close();
    }
    // Migrating twice changes nothing (init runs at every start).
    const reopened = await backend.open(location);
    try {
      expect(await reopened.applyOrder(ORDER, 'old-key', 'P123', 2)).toMatchObject({ replayed: true, body: { newStock: 98 } });
      expect(await reopened.applyOrder('audit-service', 'old-key', 'P123', 2)).toMatchObject({ replayed: true, body: { newStock: 96 } });
      expect(await reopened.getStock('P123')).toBe(96);
    } finally {
      await reopened.close();
    }
  });
});
