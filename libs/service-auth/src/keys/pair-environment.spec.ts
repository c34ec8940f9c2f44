import { describe, expect, it } from '@jest/globals';
import { EnvKeyProvider, formatKeyList, parseKeyList } from './env-key-provider.js';
import { generateCredential } from './generate-credential.js';
import { KeyRing } from './key-ring.js';
import { calleeEnvironment, callerEnvironment } from './pair-environment.js';

describe('formatKeyList', () => {
  it('is the inverse of parseKeyList, order and algorithm kept', () => {
    const [a, b] = [generateCredential('a'), generateCredential('a')];
    const list = formatKeyList([a, { ...b, algorithm: 'hmac-sha256' }]);
    expect(list).toBe(`${a.id}:${a.apiKey}:${a.secret},${b.id}:${b.apiKey}:hmac-sha256:${b.secret}`);
    expect(parseKeyList(list, 'V').map(({ source: _, ...key }) => key)).toEqual([a, { ...b, algorithm: 'hmac-sha256' }]);
  });
});

describe('the environment of both ends of a pair', () => {
  const key = generateCredential('order-service');

  it('names the variables EnvKeyProvider reads', () => {
    expect(callerEnvironment('inventory-service', 'http://inventory:8082', [key])).toEqual({
      SERVICE_AUTH_UPSTREAMS: 'inventory-service',
      SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_URL: 'http://inventory:8082',
      SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_KEYS: `${key.id}:${key.apiKey}:${key.secret}`,
    });
    expect(calleeEnvironment('order-service', [key])).toEqual({
      SERVICE_AUTH_CALLERS: 'order-service',
      SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS: `${key.id}:${key.apiKey}:${key.secret}`,
    });
  });

  it('loads through EnvKeyProvider into the same credential at both ends, also under another prefix', () => {
    const callerEnv = callerEnvironment('inventory-service', 'http://inventory:8082/api', [key], 'AUTH');
    const calleeEnv = calleeEnvironment('order-service', [key], 'AUTH');
    expect(Object.keys({ ...callerEnv, ...calleeEnv }).every((name) => name.startsWith('AUTH_'))).toBe(true);
    const caller = KeyRing.from(new EnvKeyProvider({ prefix: 'AUTH', get: (name) => callerEnv[name] }).load(), 'order-service');
    const callee = KeyRing.from(new EnvKeyProvider({ prefix: 'AUTH', get: (name) => calleeEnv[name] }).load(), 'inventory-service');
    const signing = caller.upstream('inventory-service')!.keys[0];
    expect(signing.audience).toBe('inventory-service');
    expect(callee.findByApiKey(signing.apiKey)).toMatchObject({ id: key.id, callerId: 'order-service', algorithm: 'hmac-sha256' });
  });
});
