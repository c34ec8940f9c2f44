/**
 * Verification metrics, end to end on both adapters: inventory-service records every decision of
 * ServiceAuthGuard on its own OpenTelemetry MeterProvider and serves them on GET /metrics in the
 * Prometheus text format. After one accepted and several refused calls the counters say who called
 * which route with what outcome (and why it was refused), the histogram counts the same decisions,
 * and nothing in the scrape is a key, a path with ids or a query.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { METER_NAME } from 'nest-service-auth';
import type { Adapter } from './support/demo-services.js';
import { startInventory, type RunningInventory } from './support/inventory-service.js';
import { findSamples, parsePrometheusText, type Sample } from './support/prometheus-text.js';
import { rawRequest, signedHeaders, signingCredential, type RawResponse, type SignedInit } from './support/raw-http.js';

const ADAPTERS: Adapter[] = ['express', 'fastify'];
const REQUESTS = 'service_auth_requests_total';
const DURATION = 'service_auth_verification_duration';
const ROUTE = '/api/inventory/:productId';
/** Sent in the path and the query of every call below: must never reach a metric. */
const PRODUCT = 'P123';
const QUERY_VALUE = 'q-4f1d9c-private';

describe.each(ADAPTERS)('verification metrics on GET /metrics (%s)', (adapter) => {
  let inventory: RunningInventory;
  let scrape: RawResponse;
  let samples: Sample[];
  const secrets: string[] = [];

  const signed = (key: RunningInventory['orderKey'], init: SignedInit) =>
    rawRequest(inventory.url, {
      method: init.method,
      path: init.path,
      headers: signedHeaders(inventory.url, signingCredential(key), init),
    });

  beforeAll(async () => {
    inventory = await startInventory({ adapter });
    for (const key of [inventory.orderKey, inventory.auditKey]) secrets.push(key.apiKey, key.secret);
    const path = `/api/inventory/${PRODUCT}?note=${QUERY_VALUE}`;

    // Accepted: order-service, trusted by the route.
    expect((await signed(inventory.orderKey, { method: 'GET', path })).status).toBe(200);
    // Refused, unknown caller: no API key at all.
    expect((await rawRequest(inventory.url, { method: 'GET', path })).json).toMatchObject({ reason: 'api_key_missing' });
    // Refused twice, known caller: audit-service is configured but the route does not trust it.
    for (let i = 0; i < 2; i++)
      expect((await signed(inventory.auditKey, { method: 'GET', path })).json).toMatchObject({ reason: 'caller_not_trusted' });
    // Refused, known API key with a bad signature: the caller the key belongs to is named.
    const forged = signedHeaders(inventory.url, signingCredential(inventory.orderKey), { method: 'GET', path });
    forged['signature'] = forged['signature'].replace(/=:[^:]+:/, `=:${Buffer.alloc(32, 7).toString('base64')}:`);
    expect((await rawRequest(inventory.url, { method: 'GET', path, headers: forged })).json).toMatchObject({ reason: 'signature_invalid' });
    // Public routes are not verified, so not counted.
    expect((await rawRequest(inventory.url, { method: 'GET', path: '/health' })).status).toBe(200);

    scrape = await rawRequest(inventory.url, { method: 'GET', path: '/metrics' });
    samples = parsePrometheusText(scrape.text);
  }, 60_000);

  afterAll(async () => {
    await inventory?.close();
  });

  it('is served publicly in the Prometheus text format', () => {
    expect(scrape.status).toBe(200);
    expect(scrape.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(scrape.text).toContain(`# TYPE ${REQUESTS} counter`);
    expect(scrape.text).toContain(`# TYPE ${DURATION} histogram`);
  });

  it('counts the accepted call by caller, route, method and outcome', () => {
    expect(findSamples(samples, REQUESTS, { outcome: 'accepted' })).toEqual([
      {
        name: REQUESTS,
        labels: { caller: 'order-service', route: ROUTE, method: 'GET', outcome: 'accepted', otel_scope_name: METER_NAME },
        value: 1,
      },
    ]);
  });

  it('counts each refusal by caller (or "unknown"), route and reason', () => {
    const refused = findSamples(samples, REQUESTS, { outcome: 'refused', route: ROUTE, method: 'GET' });
    const byReason = Object.fromEntries(refused.map((s) => [s.labels.reason, { caller: s.labels.caller, value: s.value }]));
    expect(byReason).toEqual({
      api_key_missing: { caller: 'unknown', value: 1 },
      caller_not_trusted: { caller: 'audit-service', value: 2 },
      signature_invalid: { caller: 'order-service', value: 1 },
    });
  });

  it('times every decision in a histogram (seconds) by route and outcome', () => {
    const count = (outcome: string) => findSamples(samples, `${DURATION}_count`, { route: ROUTE, method: 'GET', outcome });
    expect(count('accepted').map((s) => s.value)).toEqual([1]);
    expect(count('refused').map((s) => s.value)).toEqual([4]);
    const infBucket = findSamples(samples, `${DURATION}_bucket`, { route: ROUTE, outcome: 'refused', le: '+Inf' });
    expect(infBucket.map((s) => s.value)).toEqual([4]);
    // Sub-millisecond buckets exist: a verification is far below the SDK's default (millisecond) ones.
    expect(findSamples(samples, `${DURATION}_bucket`, { route: ROUTE, outcome: 'accepted', le: '0.001' })).toHaveLength(1);
    const sum = findSamples(samples, `${DURATION}_sum`, { route: ROUTE, outcome: 'accepted' })[0];
    expect(sum.value).toBeGreaterThan(0);
    // No caller or reason on the histogram: its series stay few.
    for (const s of findSamples(samples, `${DURATION}_count`))
      expect(Object.keys(s.labels).sort()).toEqual(['method', 'otel_scope_name', 'outcome', 'route']);
  });

  it('records public routes not at all, and never a key, a path with ids or a query', () => {
    expect(samples.filter((s) => s.name.startsWith('service_auth_') && s.labels.route !== ROUTE)).toEqual([]);
    expect(scrape.text).not.toContain(PRODUCT);
    expect(scrape.text).not.toContain(QUERY_VALUE);
    for (const s of secrets) expect(scrape.text).not.toContain(s);
  });
});
