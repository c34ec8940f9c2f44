/**
 * Two inventory-service instances (Express) sharing ONE stock in a real PostgreSQL server
 * (DATABASE_URL), as two replicas behind a load balancer would: concurrent orders spread over both
 * never oversell, and an Idempotency-Key first used on one instance is replayed by the other.
 *
 * The PostgreSQL server is a throwaway one (test/support/postgres-server.ts), started for this file;
 * without the server binaries this suite FAILS, it never skips. Requests are signed by hand as
 * order-service (each one freshly: its own nonce), with plaintext bodies (ENCRYPTION_POLICY=optional).
 * Product P123 (seeded with 100) is reserved for the concurrency test; the replay tests use P456 (50)
 * and P789 (0).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import type { HmacSigningCredential } from 'nest-service-auth/core';
import { createInventoryApp } from '../apps/inventory-service/src/inventory-app.js';
import { keyList, newCredential } from './support/credentials.js';
import { listenUrl } from './support/demo-services.js';
import { startPostgresServer, type PostgresServerHandle } from './support/postgres-server.js';
import { jsonField, numberField, rawRequest, reasonOf, signedHeaders, signingCredential, type RawResponse } from './support/raw-http.js';
import { prng } from './support/prng.js';

describe('two inventory-service instances sharing one PostgreSQL stock (express)', () => {
  let postgres: PostgresServerHandle | undefined;
  const apps: INestApplication[] = [];
  let urlA: string;
  let urlB: string;
  let order: HmacSigningCredential;

  beforeAll(async () => {
    postgres = await startPostgresServer();
    const orderKey = newCredential('order-2026-11');
    const auditKey = newCredential('audit-2026-11');
    order = signingCredential(orderKey);
    const env = {
      SERVICE_AUTH_CALLERS: 'order-service,audit-service',
      SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS: keyList(orderKey),
      SERVICE_AUTH_CALLER_AUDIT_SERVICE_KEYS: keyList(auditKey),
      DATABASE_URL: postgres.url,
      ENCRYPTION_POLICY: 'optional',
    };
    // Both start together against an empty database: their stores' init() (schema + seed) race, and the
    // advisory lock taken in init() must make exactly one of them seed.
    const created = await Promise.allSettled([0, 1].map(() => createInventoryApp({ adapter: 'express', logger: false, env })));
    for (const result of created) if (result.status === 'fulfilled') apps.push(result.value);
    const failed = created.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    [urlA, urlB] = await Promise.all(apps.map((app) => listenUrl(app)));
  }, 60_000);

  afterAll(async () => {
    for (const app of apps) await app.close();
    await postgres?.stop();
  });

  /** POST /api/inventory to `baseUrl`, signed for that request only (a fresh nonce every time). */
  function postOrder(baseUrl: string, idempotencyKey: string, productId: string, quantity: number): Promise<RawResponse> {
    const body = JSON.stringify({ productId, quantity });
    const init = { method: 'POST', path: '/api/inventory', body, headers: { 'idempotency-key': idempotencyKey } };
    return rawRequest(baseUrl, { ...init, headers: signedHeaders(baseUrl, order, init), timeoutMs: 20_000 });
  }

  /** GET /api/inventory/:productId, signed. */
  async function stockOf(baseUrl: string, productId: string): Promise<number> {
    const init = { method: 'GET', path: `/api/inventory/${productId}` };
    const res = await rawRequest(baseUrl, { ...init, headers: signedHeaders(baseUrl, order, init) });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ productId, stock: expect.any(Number) });
    return numberField(res, 'stock');
  }

  it('seeds the shared stock once: both instances read the same seed', async () => {
    for (const url of [urlA, urlB]) {
      expect(await stockOf(url, 'P123')).toBe(100);
      expect(await stockOf(url, 'P456')).toBe(50);
      expect(await stockOf(url, 'P789')).toBe(0);
    }
  });

  it('200 concurrent orders spread over both instances never oversell', async () => {
    const random = prng(20261125);
    const orders = Array.from({ length: 200 }, (_, i) => ({
      key: `shared-order-${i}`,
      quantity: 1 + Math.floor(random() * 3),
      url: i % 2 === 0 ? urlA : urlB,
    }));

    const answers = await Promise.all(orders.map((o) => postOrder(o.url, o.key, 'P123', o.quantity)));

    const acceptedSum = orders.reduce((sum, o, i) => sum + (answers[i].status === 200 ? o.quantity : 0), 0);
    const accepted = answers.filter((a) => a.status === 200);
    for (const [i, answer] of answers.entries()) {
      if (answer.status === 200) {
        expect(answer.json).toEqual({
          message: `Inventory updated for product P123. New stock: ${numberField(answer, 'newStock')}`,
          productId: 'P123',
          newStock: expect.any(Number),
        });
        expect(jsonField(answer, 'newStock')).toBeGreaterThanOrEqual(0);
      } else {
        expect({ order: orders[i], status: answer.status, reason: reasonOf(answer) }).toEqual({
          order: orders[i],
          status: 409,
          reason: 'insufficient_stock',
        });
      }
    }
    // Both instances really took part, on both sides of the outcome (~400 units asked for 100 in stock).
    expect(accepted.length).toBeGreaterThan(0);
    expect(accepted.length).toBeLessThan(200);
    for (const url of [urlA, urlB]) expect(orders.some((o, i) => o.url === url && answers[i].status === 200)).toBe(true);

    // One decrement at a time across both instances: every success left a distinct stock.
    const newStocks = accepted.map((a) => numberField(a, 'newStock'));
    expect(new Set(newStocks).size).toBe(accepted.length);

    const finalA = await stockOf(urlA, 'P123');
    const finalB = await stockOf(urlB, 'P123');
    expect(finalA).toBe(100 - acceptedSum);
    expect(finalB).toBe(finalA);
    expect(finalA).toBeGreaterThanOrEqual(0);
    expect(Math.min(...newStocks)).toBe(finalA);
  }, 60_000);

  it('an Idempotency-Key used on instance A is replayed by instance B, and the stock moves once', async () => {
    const before = await stockOf(urlA, 'P456');
    const first = await postOrder(urlA, 'shared-replay-1', 'P456', 2);
    expect(first.status).toBe(200);
    expect(first.json).toEqual({
      message: `Inventory updated for product P456. New stock: ${before - 2}`,
      productId: 'P456',
      newStock: before - 2,
    });

    const again = await postOrder(urlB, 'shared-replay-1', 'P456', 2);
    expect(again.status).toBe(200);
    expect(again.text).toBe(first.text); // the recorded answer, byte for byte

    expect(await stockOf(urlA, 'P456')).toBe(before - 2);
    expect(await stockOf(urlB, 'P456')).toBe(before - 2);
  });

  it('a refusal recorded on instance A is replayed by instance B', async () => {
    const first = await postOrder(urlA, 'shared-replay-2', 'P789', 1);
    expect(first.status).toBe(409);
    expect(first.json).toMatchObject({ statusCode: 409, productId: 'P789', reason: 'insufficient_stock' });
    const again = await postOrder(urlB, 'shared-replay-2', 'P789', 1);
    expect(again.status).toBe(409);
    expect(again.text).toBe(first.text);
    expect(await stockOf(urlB, 'P789')).toBe(0);
  });

  it('the same Idempotency-Key sent to both instances at once is applied once', async () => {
    const before = await stockOf(urlB, 'P456');
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => postOrder(i % 2 === 0 ? urlA : urlB, 'shared-replay-3', 'P456', 1)),
    );
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.text).toBe(answers[0].text);
    }
    expect(jsonField(answers[0], 'newStock')).toBe(before - 1);
    expect(await stockOf(urlA, 'P456')).toBe(before - 1);
  });
});
