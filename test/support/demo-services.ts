import type { INestApplication } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInventoryApp } from '../../apps/inventory-service/src/inventory-app.js';
import { createOrderApp } from '../../apps/order-service/src/order-app.js';
import { keyList, newCredential, type TestCredential } from './credentials.js';

export type Adapter = 'express' | 'fastify';

export interface RunningServices {
  inventory: INestApplication;
  order: INestApplication;
  inventoryUrl: string;
  orderUrl: string;
  /** order-service's credential, trusted by inventory-service. */
  orderKey: TestCredential;
  /** A configured caller of inventory-service that no inventory route trusts. */
  auditKey: TestCredential;
  close(): Promise<void>;
}

export async function listenUrl(app: INestApplication): Promise<string> {
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address();
  return `http://127.0.0.1:${address.port}`;
}

/** Variables by which a test asks for a real database; without any, the stock is kept in memory. */
const STOCK_DATABASE_VARIABLES = ['INVENTORY_STOCK_STORE', 'DATABASE_URL', 'INVENTORY_DATA_DIR'];

/**
 * Starts inventory-service and order-service in this process, wired with fresh keys.
 *
 * The inventory keeps its stock in memory (INVENTORY_STOCK_STORE=memory): these tests are about the
 * services and the library, and a PGlite start costs seconds. A test that sets INVENTORY_STOCK_STORE,
 * DATABASE_URL or INVENTORY_DATA_DIR in `extraInventoryEnv` gets the database it asks for (PGlite in a
 * fresh temporary directory unless it says otherwise), as the stock-store tests do.
 */
export async function startServices(adapter: Adapter, extraInventoryEnv: Record<string, string> = {}): Promise<RunningServices> {
  const orderKey = newCredential('order-2026-11');
  const auditKey = newCredential('audit-2026-11');
  const wantsDatabase = STOCK_DATABASE_VARIABLES.some((name) => name in extraInventoryEnv);
  const dataDir = wantsDatabase ? mkdtempSync(join(tmpdir(), 'inventory-')) : undefined;
  const inventory = await createInventoryApp({
    adapter,
    logger: false,
    env: {
      SERVICE_AUTH_CALLERS: 'order-service,audit-service',
      SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS: keyList(orderKey),
      SERVICE_AUTH_CALLER_AUDIT_SERVICE_KEYS: keyList(auditKey),
      ...(dataDir ? { INVENTORY_DATA_DIR: dataDir } : { INVENTORY_STOCK_STORE: 'memory' }),
      ...extraInventoryEnv,
    },
  });
  const inventoryUrl = await listenUrl(inventory);
  const order = await createOrderApp({
    adapter,
    logger: false,
    env: { SERVICE_AUTH_KEYS: keyList(orderKey), INVENTORY_URL: inventoryUrl },
  });
  const orderUrl = await listenUrl(order);
  return {
    inventory,
    order,
    inventoryUrl,
    orderUrl,
    orderKey,
    auditKey,
    async close() {
      await order.close();
      await inventory.close();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
