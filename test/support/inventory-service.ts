/**
 * One inventory-service (the demo callee) in this process, with fresh keys for its two callers and
 * its own data directory. The environment is built here, in one place: `env` adds to or overrides it.
 */
import type { INestApplication, LoggerService, LogLevel } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInventoryApp } from '../../apps/inventory-service/src/inventory-app.js';
import { keyList, newCredential, type TestCredential } from './credentials.js';
import { listenUrl, type Adapter } from './demo-services.js';

export interface RunningInventory {
  app: INestApplication;
  url: string;
  /** Trusted by every inventory route. */
  orderKey: TestCredential;
  /** A configured caller that no inventory route trusts. */
  auditKey: TestCredential;
  close(): Promise<void>;
}

export interface StartInventoryOptions {
  adapter: Adapter;
  env?: Record<string, string>;
  /** Default: no logging. */
  logger?: LoggerService | LogLevel[] | false;
}

export async function startInventory(options: StartInventoryOptions): Promise<RunningInventory> {
  const orderKey = newCredential('order-2026-11');
  const auditKey = newCredential('audit-2026-11');
  const dataDir = mkdtempSync(join(tmpdir(), 'inventory-'));
  let app: INestApplication | undefined;
  try {
    app = await createInventoryApp({
      adapter: options.adapter,
      logger: options.logger ?? false,
      env: {
        SERVICE_AUTH_CALLERS: 'order-service,audit-service',
        SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS: keyList(orderKey),
        SERVICE_AUTH_CALLER_AUDIT_SERVICE_KEYS: keyList(auditKey),
        INVENTORY_DATA_DIR: dataDir,
        ...options.env,
      },
    });
    const url = await listenUrl(app);
    const started = app;
    return {
      app,
      url,
      orderKey,
      auditKey,
      async close() {
        await started.close();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}
