import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { accessSync, constants, cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeStockStoreContract, ORDER, type StockStoreBackend } from '../../../../test/support/stock-store-contract.js';
import { createStockStore, DEFAULT_DATA_DIR } from './create-stock-store.js';
import { PGliteDatabase } from './pglite-database.js';
import { DEFAULT_SEED, SqlStockStore } from './sql-stock-store.js';

/**
 * SqlStockStore on PGlite (PostgreSQL in WASM, in this process): the StockStore contract
 * (test/support/stock-store-contract.ts, which a PostgreSQL server and the memory store run too), each
 * test in a data directory of its own, then the PGlite adapter itself. No server process, but every
 * PGlite start costs about a second and every initdb several, so this is an integration test (Jest's
 * e2e project), not a unit test.
 *
 * Cost control: initdb runs three times in this file (the one database copied for most tests, the timed
 * cold start, the timed 'memory://' start); the copies live in /dev/shm when it exists, where copying
 * 40 MB takes a fraction of what it takes on a busy disk. What PGlite does with the files is the same.
 */

const timings: string[] = [];
const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;

function scratchRoot(): string {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

const scratchDirs: string[] = [];
function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(scratchRoot(), prefix));
  scratchDirs.push(dir);
  return dir;
}

/** One PGlite database, initdb'd once and empty (no schema): tests get copies of it. */
let template: Promise<string> | undefined;
function copyOfTemplate(target: string): Promise<string> {
  template ??= (async () => {
    const dir = join(scratchDir('inventory-stock-template-'), 'pgdata');
    await (await PGliteDatabase.open(dir)).close();
    return dir;
  })();
  return template.then((dir) => {
    cpSync(dir, target, { recursive: true });
    return target;
  });
}

function pgliteBackend(): StockStoreBackend {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(scratchRoot(), 'inventory-stock-'));
    dirs.push(dir);
    return dir;
  };
  return {
    name: 'PGlite',
    coldStartNote: 'incl. initdb',
    async fresh() {
      return join(tempDir(), 'nested', 'pgdata'); // createStockStore must create it recursively
    },
    prepared: () => copyOfTemplate(join(tempDir(), 'pgdata')),
    open: (dataDir) => createStockStore({ dataDir }),
    async cleanup() {
      for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    },
  };
}

afterAll(async () => {
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
  if (timings.length > 0) console.log(`Stock store timings:\n  ${timings.join('\n  ')}`);
});

describeStockStoreContract('SqlStockStore on PGlite', pgliteBackend(), timings);

describe('PGlite adapter', () => {
  const dirs: string[] = [];
  const copy = async () => {
    const dir = mkdtempSync(join(scratchRoot(), 'inventory-pglite-'));
    dirs.push(dir);
    return copyOfTemplate(join(dir, 'pgdata'));
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('serializes concurrent transactions and keeps plain queries out of them', async () => {
    const db = await PGliteDatabase.open(await copy());
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
    const dir = mkdtempSync(join(scratchRoot(), 'inventory-cwd-'));
    dirs.push(dir);
    const defaultDir = join(dir, 'data', 'inventory');
    await copyOfTemplate(defaultDir);
    const cwd = process.cwd();
    try {
      process.chdir(dir);
      const store = await createStockStore();
      process.chdir(cwd);
      await store.applyOrder(ORDER, 'key-1', 'P123', 2);
      await store.close();
    } finally {
      process.chdir(cwd);
    }
    // The order landed in <cwd>/data/inventory.
    const reopened = await createStockStore({ dataDir: defaultDir });
    try {
      expect(await reopened.getStock('P123')).toBe(98);
    } finally {
      await reopened.close();
    }
  });

  it('seeds a custom stock and rejects an invalid seed', async () => {
    const store = await createStockStore({ dataDir: await copy(), seed: { A1: 5 } });
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
