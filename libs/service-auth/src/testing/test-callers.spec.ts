import { describe, expect, it } from '@jest/globals';
import { EnvKeyProvider } from '../keys/env-key-provider.js';
import { KeyRing } from '../keys/key-ring.js';
import { httpMessage } from '../protocol/http-message.js';
import { RequestVerifier } from '../protocol/request-verifier.js';
import { MemoryNonceStore } from '../replay/memory-nonce-store.js';
import { combineEnv } from './combine-env.js';
import { testCaller, testCallers } from './test-caller.js';

/** The ring the service under test builds from these variables, as EnvKeyProvider reads them. */
const ringFrom = (env: Record<string, string>, prefix?: string) =>
  KeyRing.from(new EnvKeyProvider({ get: (name) => env[name], prefix }).load(), 'inventory-service');

async function callerVerifiedBy(ring: KeyRing, headers: Record<string, string>): Promise<string> {
  const verifier = new RequestVerifier(() => ring, new MemoryNonceStore(), { audience: 'inventory-service' });
  const verified = await verifier.verify(httpMessage({ method: 'GET', target: '/x', headers }), Buffer.alloc(0));
  return verified.caller.id;
}

describe('several test callers of one service under test', () => {
  const order = testCaller('order-service', { audience: 'inventory-service' });
  const audit = testCaller('audit-service', { audience: 'inventory-service' });

  it('spreading two env() into one object keeps only the last caller (why testCallers exists)', () => {
    expect(ringFrom({ ...order.env(), ...audit.env() }).callerIds).toEqual(['audit-service']);
  });

  it('testCallers(a, b).env() accepts both: each one signs and is verified as itself', async () => {
    const env = testCallers(order, audit).env();
    expect(env.SERVICE_AUTH_CALLERS).toBe('order-service,audit-service');
    const ring = ringFrom(env);
    expect(ring.callerIds).toEqual(['order-service', 'audit-service']);
    expect(await callerVerifiedBy(ring, order.sign('GET', '/x'))).toBe('order-service');
    expect(await callerVerifiedBy(ring, audit.sign('GET', '/x'))).toBe('audit-service');
  });

  it('testCallers(a, b).asCallers() is the same configuration as options; a prefix is kept', async () => {
    const ring = KeyRing.from({ callers: testCallers(order, audit).asCallers() }, 'inventory-service');
    expect(await callerVerifiedBy(ring, audit.sign('GET', '/x'))).toBe('audit-service');
    expect(ringFrom(testCallers(order, audit).env('AUTH'), 'AUTH').callerIds).toEqual(['order-service', 'audit-service']);
  });

  it('the same caller id twice is refused: one of the two would be refused at every request', () => {
    const again = testCaller('order-service', { audience: 'inventory-service' });
    expect(() => testCallers(order, again)).toThrow('testCallers: "order-service" is given twice');
    expect(() => testCallers()).toThrow(TypeError);
  });
});

describe('combineEnv', () => {
  const order = testCaller('order-service', { audience: 'inventory-service' });
  const payments = testCaller('inventory-service', { audience: 'payments-service' });
  const shipping = testCaller('inventory-service', { audience: 'shipping-service' });

  it('joins callers and upstreams of a service that is called and calls others, each id once', () => {
    const env = combineEnv(
      order.env(),
      payments.upstreamEnv('http://payments:8083'),
      shipping.upstreamEnv('http://shipping:8084'),
      order.env(),
    );
    expect(env.SERVICE_AUTH_CALLERS).toBe('order-service');
    expect(env.SERVICE_AUTH_UPSTREAMS).toBe('payments-service,shipping-service');
    const ring = ringFrom(env);
    expect(ring.callerIds).toEqual(['order-service']);
    expect(ring.upstreamIds).toEqual(['payments-service', 'shipping-service']);
    expect(ring.upstream('shipping-service')?.url).toBe('http://shipping:8084');
  });

  it('two values for one variable are refused, naming the variable and never the value', () => {
    const rival = testCaller('order-service', { audience: 'inventory-service' });
    let message = '';
    try {
      combineEnv(order.env(), rival.env());
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe(
      'combineEnv: SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS has two different values; give each caller (and upstream) its own id',
    );
    expect(message).not.toContain(rival.credential.apiKey);
  });
});
