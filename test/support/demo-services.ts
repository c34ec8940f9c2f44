import type { INestApplication } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInventoryApp } from '../../apps/inventory-service/src/inventory-app.js';
import { createOrderApp } from '../../apps/order-service/src/order-app.js';
import { inventoryUpstreamEnv, keyList, newCredential, type TestCredential } from './credentials.js';

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

/** Starts inventory-service and order-service in this process, wired with fresh keys. */
export async function startServices(adapter: Adapter, extraInventoryEnv: Record<string, string> = {}): Promise<RunningServices> {
  const orderKey = newCredential('order-2026-11');
  const auditKey = newCredential('audit-2026-11');
  const dataDir = mkdtempSync(join(tmpdir(), 'inventory-'));
  const inventory = await createInventoryApp({
    adapter,
    logger: false,
    env: {
      SERVICE_AUTH_CALLERS: 'order-service,audit-service',
      SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS: keyList(orderKey),
      SERVICE_AUTH_CALLER_AUDIT_SERVICE_KEYS: keyList(auditKey),
      INVENTORY_DATA_DIR: dataDir,
      ...extraInventoryEnv,
    },
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
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
