/**
 * Faults between order-service and inventory-service, over real HTTP (Express adapter), with a faulty
 * proxy in between: lost answers, late answers, an inventory restart between attempts, an inventory
 * that is down or hangs (circuit breaker), concurrent orders from two order-service instances, and
 * refusals the order service must pass on or translate.
 *
 * One inventory app (stock in memory) serves the whole file; it is restarted once, on the same stock
 * data (MemoryStockData outlives the app, as a database would) and port. Product P123 (seeded with 100) is reserved for the concurrency
 * test, the other tests order P456 (seeded with 50) and look at its stock before and after.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { HttpException, type INestApplication, type LoggerService } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { firstValueFrom } from 'rxjs';
import { SignedHttpService, UpstreamUnavailableError } from 'nest-service-auth/client';
import { JWE_MEDIA_TYPE } from 'nest-service-auth/core';
import { STOCK_STORE } from '../apps/inventory-service/src/inventory/inventory.constants.js';
import { createInventoryApp } from '../apps/inventory-service/src/inventory-app.js';
import { MemoryStockData } from '../apps/inventory-service/src/stock/memory-stock-store.js';
import type { StockStore } from '../apps/inventory-service/src/stock/stock-store.interface.js';
import { InventoryClient } from '../apps/order-service/src/orders/inventory.client.js';
import { createOrderApp } from '../apps/order-service/src/order-app.js';
import { inventoryUpstreamEnv, keyList, newCredential } from './support/credentials.js';
import { listenUrl, portOf } from './support/demo-services.js';
import { startFaultyProxy, type FaultyProxy, type ForwardedRequest } from './support/faulty-proxy.js';
import { rawRequest, reasonOf, type RawResponse } from './support/raw-http.js';

interface LogEntry {
  level: string;
  message: unknown;
  context?: string;
}

/** Keeps every log line in memory (silent), so tests can check what was logged. */
class CapturingLogger implements LoggerService {
  readonly entries: LogEntry[] = [];
  private push(level: string, message: unknown, rest: unknown[]) {
    this.entries.push({
      level,
      message,
      context: typeof rest[rest.length - 1] === 'string' ? (rest[rest.length - 1] as string) : undefined,
    });
  }
  log = (message: unknown, ...rest: unknown[]) => this.push('log', message, rest);
  error = (message: unknown, ...rest: unknown[]) => this.push('error', message, rest);
  warn = (message: unknown, ...rest: unknown[]) => this.push('warn', message, rest);
  debug = (message: unknown, ...rest: unknown[]) => this.push('debug', message, rest);
  verbose = (message: unknown, ...rest: unknown[]) => this.push('verbose', message, rest);
  fatal = (message: unknown, ...rest: unknown[]) => this.push('fatal', message, rest);

  /** Entries whose message is an object with this `event`. */
  events(event: string): LogEntry[] {
    return this.entries.filter(
      (e) => typeof e.message === 'object' && e.message !== null && (e.message as { event?: string }).event === event,
    );
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const nonceOf = (r: ForwardedRequest) => /;nonce="([^"]+)"/.exec(String(r.headers['signature-input'] ?? ''))?.[1];
const idempotencyKeyOf = (r: ForwardedRequest) => r.headers['idempotency-key'];

const BREAKER_HALF_OPEN_MS = 2000;

describe('order-service -> inventory-service under faults (real HTTP, Express)', () => {
  const logs = new CapturingLogger();
  const orderKey = newCredential('order-2026-11');
  const stockData = new MemoryStockData();
  const orderApps: INestApplication[] = [];
  let inventory: INestApplication;
  let inventoryPort: number;
  let inventoryUrl: string;
  /** In front of the inventory, used by the order apps below (but not by the concurrency pair). */
  let proxy: FaultyProxy;
  /** A proxy of its own (another origin, so another circuit) for the circuit-breaker test. */
  let breakerProxy: FaultyProxy;

  async function startInventory(port: number): Promise<INestApplication> {
    const app = await createInventoryApp({
      adapter: 'express',
      logger: logs,
      stockData,
      env: {
        SERVICE_AUTH_CALLERS: 'order-service',
        SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS: keyList(orderKey),
        // This file sends a few hundred orders within a minute; the per-caller rate limit is not under test.
        RATE_LIMIT_PER_MINUTE: '100000',
      },
    });
    await app.listen(port, '127.0.0.1');
    return app;
  }

  /** order-service calling the inventory at `upstreamUrl` (the inventory itself or a proxy in front of it). */
  async function startOrder(
    upstreamUrl: string,
    env: Record<string, string> = {},
    key = orderKey,
  ): Promise<{ app: INestApplication; url: string }> {
    const app = await createOrderApp({ adapter: 'express', logger: logs, env: { ...inventoryUpstreamEnv(upstreamUrl, key), ...env } });
    orderApps.push(app);
    return { app, url: await listenUrl(app) };
  }

  const stockOf = (productId: string) => inventory.get<symbol, StockStore>(STOCK_STORE).getStock(productId);

  function placeOrder(orderUrl: string, productId: string, quantity: number, timeoutMs = 30_000): Promise<RawResponse> {
    return rawRequest(orderUrl, {
      method: 'POST',
      path: '/api/orders',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ productId, quantity }),
      timeoutMs,
    });
  }

  /** The attempts of ONE order, as the proxy saw them: same Idempotency-Key (a UUID, signed), each with its own nonce, encrypted. */
  function expectOneOrderSignedPerAttempt(attempts: readonly ForwardedRequest[]) {
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(idempotencyKeyOf(attempts[0])).toMatch(UUID);
    expect(new Set(attempts.map(idempotencyKeyOf))).toEqual(new Set([idempotencyKeyOf(attempts[0])]));
    expect(attempts.every((a) => nonceOf(a) !== undefined)).toBe(true);
    expect(new Set(attempts.map(nonceOf)).size).toBe(attempts.length);
    expect(new Set(attempts.map((a) => a.headers['signature'])).size).toBe(attempts.length);
    for (const attempt of attempts) {
      expect(attempt.method).toBe('POST');
      expect(attempt.path).toBe('/api/inventory');
      expect(attempt.headers['signature-input']).toContain('"idempotency-key"');
      // Encryption still applies through the proxy (the inventory upstream's URL is the proxy's).
      expect(attempt.headers['content-type']).toBe(JWE_MEDIA_TYPE);
    }
  }

  // Order apps of the fault tests, all through `proxy`.
  let orders: { app: INestApplication; url: string };
  let ordersWithShortTimeout: { app: INestApplication; url: string };
  let ordersWithoutRetry: { app: INestApplication; url: string };
  let ordersWithBreaker: { app: INestApplication; url: string };
  let ordersWithWrongKey: { app: INestApplication; url: string };
  // Two instances straight to the inventory, for the concurrency test.
  let ordersOne: { app: INestApplication; url: string };
  let ordersTwo: { app: INestApplication; url: string };

  beforeAll(async () => {
    inventory = await startInventory(0);
    inventoryPort = portOf(inventory);
    inventoryUrl = `http://127.0.0.1:${inventoryPort}`;
    proxy = await startFaultyProxy({ port: inventoryPort });
    breakerProxy = await startFaultyProxy({ port: inventoryPort });

    // Defaults: per-attempt timeout 5 s, 3 attempts with 0-100 / 0-200 ms backoff, breaker 5 failures / 10 s.
    orders = await startOrder(proxy.url);
    // Answers take milliseconds (about a second on a starved CI machine); 3 s is a timeout only for a held answer.
    ordersWithShortTimeout = await startOrder(proxy.url, { INVENTORY_TIMEOUT_MS: '3000' });
    ordersWithoutRetry = await startOrder(proxy.url, { INVENTORY_RETRY: 'off' });
    ordersWithBreaker = await startOrder(breakerProxy.url, {
      INVENTORY_TIMEOUT_MS: '3000',
      INVENTORY_RETRY_MAX_ATTEMPTS: '2',
      INVENTORY_RETRY_BASE_DELAY_MS: '10',
      INVENTORY_BREAKER_FAILURES: '3',
      INVENTORY_BREAKER_HALF_OPEN_MS: String(BREAKER_HALF_OPEN_MS),
    });
    // Same key id, but an API key and secret the inventory does not know.
    ordersWithWrongKey = await startOrder(proxy.url, {}, newCredential('order-2026-11'));
    // 200 orders at once queue in the inventory: the last waits for all the others. A generous timeout
    // keeps a slow machine from turning that queue into timeouts (retries would be safe, but slow).
    ordersOne = await startOrder(inventoryUrl, { INVENTORY_TIMEOUT_MS: '60000' });
    ordersTwo = await startOrder(inventoryUrl, { INVENTORY_TIMEOUT_MS: '60000' });
  }, 60_000);

  afterAll(async () => {
    for (const app of orderApps) await app.close();
    await proxy?.close();
    await breakerProxy?.close();
    await inventory?.close();
  }, 30_000);

  it('200 concurrent orders for one product from two order-service instances: never below zero, every answer 200 or 409', async () => {
    expect(await stockOf('P123')).toBe(100);
    const quantities = Array.from({ length: 200 }, () => 1 + Math.floor(Math.random() * 3));
    const answers = await Promise.all(quantities.map((q, i) => placeOrder(i % 2 === 0 ? ordersOne.url : ordersTwo.url, 'P123', q, 90_000)));

    const accepted: Array<{ quantity: number; newStock: number }> = [];
    const refused: number[] = [];
    answers.forEach((answer, i) => {
      if (answer.status === 200) {
        const match = /^Inventory updated for product P123\. New stock: (\d+)$/.exec(answer.text);
        expect(match).not.toBeNull();
        accepted.push({ quantity: quantities[i], newStock: Number(match![1]) });
      } else {
        expect({ status: answer.status, reason: reasonOf(answer) }).toEqual({ status: 409, reason: 'insufficient_stock' });
        refused.push(quantities[i]);
      }
    });

    const final = (await stockOf('P123'))!;
    const sold = accepted.reduce((sum, a) => sum + a.quantity, 0);
    expect(final).toBeGreaterThanOrEqual(0);
    expect(final).toBe(100 - sold);
    // The accepted orders form one serial history: sorted by the stock they left, each took its
    // quantity from what the previous one left (so no two saw the same stock, none went below zero).
    let previous = 100;
    for (const a of [...accepted].sort((x, y) => y.newStock - x.newStock)) {
      expect(a.newStock).toBe(previous - a.quantity);
      expect(a.newStock).toBeGreaterThanOrEqual(0);
      previous = a.newStock;
    }
    expect(previous).toBe(final);
    // A refused order asked for more than was left when it was decided, hence more than is left now.
    for (const q of refused) expect(q).toBeGreaterThan(final);
    expect(accepted.length + refused.length).toBe(200);
  }, 120_000);

  it('the inventory applies an order but the answer is lost (connection cut): retried with the same Idempotency-Key, applied once', async () => {
    proxy.resetCounters();
    const before = (await stockOf('P456'))!;
    proxy.dropNextResponse();

    const answer = await placeOrder(orders.url, 'P456', 2);

    expect(answer.status).toBe(200);
    expect(answer.text).toBe(`Inventory updated for product P456. New stock: ${before - 2}`);
    expect(await stockOf('P456')).toBe(before - 2);
    expectOneOrderSignedPerAttempt(proxy.forwarded);
    expect(proxy.forwarded.map((r) => [r.fate, r.status])).toEqual([
      ['dropped', 200],
      ['returned', 200],
    ]);
    expect(logs.events('upstream_retry').at(-1)?.message).toMatchObject({ method: 'POST', attempt: 1, cause: 'network' });
  });

  it('the answer comes later than timeoutMs: retried after the timeout with the same Idempotency-Key, applied once', async () => {
    proxy.resetCounters();
    const before = (await stockOf('P456'))!;
    // Held far beyond the 3 s timeout (the proxy drops the timer on close): the client gives up first.
    proxy.delayNextResponse(60_000);

    const answer = await placeOrder(ordersWithShortTimeout.url, 'P456', 1);

    expect(answer.status).toBe(200);
    expect(answer.text).toBe(`Inventory updated for product P456. New stock: ${before - 1}`);
    expect(await stockOf('P456')).toBe(before - 1);
    // Two attempts; a third only if the machine is so slow that the retry's answer also took 3 s.
    expectOneOrderSignedPerAttempt(proxy.forwarded);
    expect(proxy.forwarded.length).toBeLessThanOrEqual(3);
    expect(proxy.forwarded[0]).toMatchObject({ fate: 'delayed', status: 200 });
    expect(proxy.forwarded.at(-1)).toMatchObject({ fate: 'returned', status: 200 });
    expect(logs.events('upstream_retry').at(-1)?.message).toMatchObject({ method: 'POST', attempt: 1, cause: 'timeout' });
  });

  it('the inventory restarts between two attempts of an order: the retry gets the first outcome, the stock moved once', async () => {
    proxy.resetCounters();
    const client = ordersWithoutRetry.app.get(InventoryClient);
    const key = randomUUID();
    const order = { productId: 'P456', quantity: 3 };
    const before = (await stockOf('P456'))!;

    // First attempt: applied, answer lost; this client does not retry by itself.
    proxy.dropNextResponse();
    const lost = await client.reserve(order, key).catch((e: unknown) => e);
    expect(lost).toBeInstanceOf(HttpException);
    expect((lost as HttpException).getStatus()).toBe(503);
    expect((lost as HttpException).getResponse()).toMatchObject({ reason: 'upstream_unavailable' });
    expect(await stockOf('P456')).toBe(before - 3);

    // Restart: a new app (new process state, a new store) on the same stock data and the same port.
    await inventory.close();
    inventory = await startInventory(inventoryPort);

    const retried = await client.reserve(order, key);
    expect(retried).toEqual({
      message: `Inventory updated for product P456. New stock: ${before - 3}`,
      productId: 'P456',
      newStock: before - 3,
    });
    expect(await stockOf('P456')).toBe(before - 3);
    expectOneOrderSignedPerAttempt(proxy.forwarded);
    expect(idempotencyKeyOf(proxy.forwarded[0])).toBe(key);

    // The same key with another payload is the caller's bug: 422 passed on, nothing applied.
    const reused = await client.reserve({ productId: 'P456', quantity: 1 }, key).catch((e: unknown) => e);
    expect((reused as HttpException).getStatus()).toBe(422);
    expect((reused as HttpException).getResponse()).toMatchObject({ reason: 'idempotency_key_reused' });
    expect(await stockOf('P456')).toBe(before - 3);
  }, 60_000);

  it('inventory down: 503 upstream_unavailable; after N failed attempts the circuit opens and orders fail fast; after halfOpenAfter they succeed again', async () => {
    // ordersWithBreaker: 2 attempts per order, circuit opens after 3 consecutive failed attempts, half-opens after 2 s.
    breakerProxy.resetCounters();
    const before = (await stockOf('P456'))!;
    const signed = ordersWithBreaker.app.get(SignedHttpService);

    // Down (every connection closed at once): both attempts fail, 2 failures of 3.
    breakerProxy.refuse();
    const refused = await placeOrder(ordersWithBreaker.url, 'P456', 1);
    expect({ status: refused.status, reason: reasonOf(refused) }).toEqual({ status: 503, reason: 'upstream_unavailable' });
    expect(breakerProxy.refused).toBe(2);
    expect(breakerProxy.attempts).toBe(2);

    // Hanging (accepted, never answered): the first attempt times out (3 s), failure 3 of 3: the circuit
    // opens, and the retry is refused by the open circuit without a connection.
    breakerProxy.stall();
    let started = performance.now();
    const timedOut = await placeOrder(ordersWithBreaker.url, 'P456', 1);
    const timedOutMs = performance.now() - started;
    expect({ status: timedOut.status, reason: reasonOf(timedOut) }).toEqual({ status: 503, reason: 'upstream_unavailable' });
    expect(breakerProxy.stalled).toBe(1);
    expect(breakerProxy.attempts).toBe(3);
    expect(logs.events('upstream_circuit_state').at(-1)?.message).toEqual({
      event: 'upstream_circuit_state',
      upstream: breakerProxy.url,
      state: 'open',
    });

    // Open: orders are refused without a single connection attempt.
    started = performance.now();
    const fast = await placeOrder(ordersWithBreaker.url, 'P456', 1);
    const openMs = performance.now() - started;
    expect({ status: fast.status, reason: reasonOf(fast) }).toEqual({ status: 503, reason: 'upstream_unavailable' });
    expect(logs.events('upstream_unavailable').at(-1)?.message).toMatchObject({ reason: 'circuit_open', origin: breakerProxy.url });
    const error = await firstValueFrom(signed.get(`${breakerProxy.url}/api/inventory/P456`)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamUnavailableError);
    expect(error).toMatchObject({ reason: 'circuit_open', upstream: breakerProxy.url });
    expect(breakerProxy.attempts).toBe(3);
    expect(await stockOf('P456')).toBe(before);
    // For the record, not asserted (wall clock): the timed-out order took > 3 s, the refused one milliseconds.
    logs.log({ event: 'test_timing', timedOutMs: Math.round(timedOutMs), openMs: Math.round(openMs) }, 'faults.e2e-spec');

    // Back up. Once halfOpenAfter has passed, the next order is the trial call: it succeeds and closes the circuit.
    breakerProxy.pass();
    await sleep(BREAKER_HALF_OPEN_MS + 100);
    const recovered = await placeOrder(ordersWithBreaker.url, 'P456', 1);
    expect(recovered.status).toBe(200);
    expect(recovered.text).toBe(`Inventory updated for product P456. New stock: ${before - 1}`);
    const again = await placeOrder(ordersWithBreaker.url, 'P456', 1);
    expect(again.status).toBe(200);
    expect(breakerProxy.forwarded.map((r) => r.status)).toEqual([200, 200]);
    expect(await stockOf('P456')).toBe(before - 2);
    expect(
      logs
        .events('upstream_circuit_state')
        .slice(-3)
        .map((e) => (e.message as { state: string }).state),
    ).toEqual(['open', 'half-open', 'closed']);
  }, 30_000);

  it('the inventory refuses our credentials: 502 upstream_rejected_credentials, logged as an error, not retried', async () => {
    proxy.resetCounters();
    const before = (await stockOf('P456'))!;
    const answer = await placeOrder(ordersWithWrongKey.url, 'P456', 1);
    expect(answer.status).toBe(502);
    expect(answer.json).toMatchObject({ statusCode: 502, reason: 'upstream_rejected_credentials' });
    expect(proxy.forwarded.map((r) => r.status)).toEqual([401]);
    const logged = logs.events('upstream_rejected_credentials').at(-1);
    expect(logged?.level).toBe('error');
    expect(logged?.message).toMatchObject({
      upstream: 'inventory-service',
      status: 401,
      reason: 'api_key_invalid',
      keyId: 'order-2026-11',
    });
    expect(answer.json).toMatchObject({ upstreamReason: 'api_key_invalid' });
    expect(await stockOf('P456')).toBe(before);
  });

  it("the inventory's business refusals are passed on as such: 404 product_unknown, 409 insufficient_stock (not retried)", async () => {
    proxy.resetCounters();
    const unknown = await placeOrder(orders.url, 'P999', 1);
    expect(unknown.status).toBe(404);
    expect(unknown.json).toMatchObject({ statusCode: 404, reason: 'product_unknown' });

    const none = await placeOrder(orders.url, 'P789', 1); // seeded with 0
    expect(none.status).toBe(409);
    expect(none.json).toMatchObject({ statusCode: 409, reason: 'insufficient_stock' });

    expect(proxy.forwarded.map((r) => r.status)).toEqual([404, 409]);
  });
});
