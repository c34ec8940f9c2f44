/**
 * test/support/demo-services.ts, which most e2e tests start the services with: the inventory keeps its
 * stock in memory unless the test asks for a database, so e2e tests do not pay for PGlite or PostgreSQL.
 */
import { describe, expect, it } from '@jest/globals';
import { STOCK_STORE } from '../apps/inventory-service/src/inventory/inventory.constants.js';
import { MemoryStockStore } from '../apps/inventory-service/src/stock/memory-stock-store.js';
import { startServices } from './support/demo-services.js';

describe('startServices', () => {
  it('keeps the stock in memory by default, and the services work', async () => {
    const services = await startServices('express');
    try {
      expect(services.inventory.get(STOCK_STORE)).toBeInstanceOf(MemoryStockStore);
      const res = await fetch(`${services.orderUrl}/api/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ productId: 'P123', quantity: 2 }),
      });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('Inventory updated for product P123. New stock: 98');
      expect(await services.inventory.get<symbol, MemoryStockStore>(STOCK_STORE).getStock('P123')).toBe(98);
    } finally {
      await services.close();
    }
  });

  it('opens the database a test asks for (here an unreachable PostgreSQL: the start fails)', async () => {
    await expect(startServices('express', { DATABASE_URL: 'postgres://127.0.0.1:1/inventory' })).rejects.toThrow(/ECONNREFUSED/);
  });
});
