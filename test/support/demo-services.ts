import type { INestApplication } from '@nestjs/common';
import type { HttpAdapterName } from 'service-app';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInventoryApp } from '../../apps/inventory-service/src/inventory-app.js';
import { createOrderApp } from '../../apps/order-service/src/order-app.js';
import { inventoryUpstreamEnv, keyList, newCredential, type TestCredential } from './credentials.js';

export type Adapter = HttpAdapterName;

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
  return `http://127.0.0.1:${portOf(app)}`;
}

/** The TCP port a listening app is bound to (on either adapter, getHttpServer() is Node's http.Server). */
export function portOf(app: INestApplication): number {
  return ((app.getHttpServer() as Server).address() as AddressInfo).port;
}

/**
 * Starts inventory-service and order-service in this process, wired with fresh keys.
 *
 * The inventory keeps its stock in memory (INVENTORY_STOCK_STORE=memory): these tests are about the
 * services and the library, and a PGlite start costs seconds. A test that asks for a database in
 * `extraInventoryEnv` (INVENTORY_STOCK_STORE=database, DATABASE_URL or INVENTORY_DATA_DIR) gets it:
 * PGlite in a fresh temporary directory unless it says otherwise.
 */
export async function startServices(adapter: Adapter, extraInventoryEnv: Record<string, string> = {}): Promise<RunningServices> {
  const orderKey = newCredential('order-2026-11');
  const auditKey = newCredential('audit-2026-11');
  const asksForDatabase =
    'DATABASE_URL' in extraInventoryEnv ||
    'INVENTORY_DATA_DIR' in extraInventoryEnv ||
    (extraInventoryEnv.INVENTORY_STOCK_STORE ?? 'memory') !== 'memory';
  const dataDir = asksForDatabase ? mkdtempSync(join(tmpdir(), 'inventory-')) : undefined;
  const removeDataDir = () => dataDir && rmSync(dataDir, { recursive: true, force: true });
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
  }).catch((error: unknown) => {
    removeDataDir();
    throw error;
  });
  const inventoryUrl = await listenUrl(inventory);
  const order = await createOrderApp({
    adapter,
    logger: false,
    env: { ...inventoryUpstreamEnv(inventoryUrl, orderKey) },
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
      removeDataDir();
    },
  };
}
