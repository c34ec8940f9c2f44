import { describe, it, expect } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { EnvKeyProvider, envName, parseKeyList } from './env-key-provider.js';
import { KeyConfigurationError } from './key-configuration.error.js';
import { KeyRing } from './key-ring.js';

const secret = () => randomBytes(32).toString('base64url');
const apiKey = () => 'sk_' + randomBytes(32).toString('base64url');

function env(vars: Record<string, string>) {
  return (name: string) => vars[name];
}

function configError(fn: () => unknown): KeyConfigurationError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(KeyConfigurationError);
    return err as KeyConfigurationError;
  }
  throw new Error('accepted');
}

describe('envName', () => {
  it('turns a caller id into its variable form', () => {
    expect(envName('order-service')).toBe('ORDER_SERVICE');
    expect(envName('billing.v2')).toBe('BILLING_V2');
    expect(envName('a--b~c')).toBe('A_B_C');
    expect(envName('svc9')).toBe('SVC9');
  });
});

describe('parseKeyList', () => {
  it('parses id:apiKey:secret entries separated by commas, in order, with their source', () => {
    const [a1, s1, a2, s2] = [apiKey(), secret(), apiKey(), secret()];
    expect(parseKeyList(`k1:${a1}:${s1}, k2:${a2}:${s2}`, 'VAR')).toEqual([
      { id: 'k1', apiKey: a1, secret: s1, source: 'VAR (entry 1)' },
      { id: 'k2', apiKey: a2, secret: s2, source: 'VAR (entry 2)' },
    ]);
  });

  it('tolerates whitespace and empty entries (a trailing comma)', () => {
    const [a1, s1] = [apiKey(), secret()];
    expect(parseKeyList(`  k1:${a1}:${s1} ,`, 'VAR')).toHaveLength(1);
  });

  it('a malformed entry is an error naming the variable and the entry number', () => {
    const good = `k1:${apiKey()}:${secret()}`;
    for (const bad of ['k2:only-two', 'k2:a:b:c', ':a:b', 'k2::b', 'k2:a:', 'just-text']) {
      const err = configError(() => parseKeyList(`${good},${bad}`, 'SERVICE_AUTH_KEYS'));
      expect(err.message).toContain('SERVICE_AUTH_KEYS');
      expect(err.message).toContain('entry 2');
      expect(err.message).toContain('keyId:apiKey:secret');
    }
  });

  it('the error does not echo the entry (it may contain a secret)', () => {
    const leaky = `k1:${apiKey()}:${secret()}:extra`;
    expect(configError(() => parseKeyList(leaky, 'V')).message).not.toContain(leaky.split(':')[2]);
  });
});

describe('EnvKeyProvider', () => {
  it('reads own credentials and callers, with per-caller variables named after the caller id', () => {
    const [own, orderA, orderB, billing] = [1, 2, 3, 4].map(() => ({ apiKey: apiKey(), secret: secret() }));
    const provider = new EnvKeyProvider({
      get: env({
        SERVICE_AUTH_KEYS: `o1:${own.apiKey}:${own.secret}`,
        SERVICE_AUTH_CALLERS: 'order-service, billing.v2',
        SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS: `k2:${orderB.apiKey}:${orderB.secret},k1:${orderA.apiKey}:${orderA.secret}`,
        SERVICE_AUTH_CALLER_BILLING_V2_KEYS: `b1:${billing.apiKey}:${billing.secret}`,
      }),
    });
    const material = provider.load();
    expect(material).toEqual({
      credentials: [{ id: 'o1', apiKey: own.apiKey, secret: own.secret, source: 'SERVICE_AUTH_KEYS (entry 1)' }],
      callers: [
        {
          id: 'order-service',
          source: 'SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS',
          keys: [
            { id: 'k2', apiKey: orderB.apiKey, secret: orderB.secret, source: 'SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS (entry 1)' },
            { id: 'k1', apiKey: orderA.apiKey, secret: orderA.secret, source: 'SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS (entry 2)' },
          ],
        },
        { id: 'billing.v2', source: 'SERVICE_AUTH_CALLER_BILLING_V2_KEYS', keys: [{ id: 'b1', apiKey: billing.apiKey, secret: billing.secret, source: 'SERVICE_AUTH_CALLER_BILLING_V2_KEYS (entry 1)' }] },
      ],
    });
    const ring = KeyRing.from(material, 'me');
    expect(ring.findByApiKey(orderA.apiKey)).toMatchObject({ callerId: 'order-service', id: 'k1' });
    expect(ring.signingKey?.id).toBe('o1');
  });

  it('a caller named in SERVICE_AUTH_CALLERS without its variable is an error naming that variable', () => {
    const err = configError(() => new EnvKeyProvider({ get: env({ SERVICE_AUTH_CALLERS: 'order-service' }) }).load());
    expect(err.message).toContain('SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS is not set');
    expect(err.message).toContain('SERVICE_AUTH_CALLERS');
    expect(err.message).toContain('"order-service"');
    const blank = configError(() => new EnvKeyProvider({ get: env({ SERVICE_AUTH_CALLERS: 'order-service', SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS: '  ' }) }).load());
    expect(blank.message).toContain('SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS');
  });

  it('a malformed entry is an error naming the variable and the entry number', () => {
    const err = configError(() =>
      new EnvKeyProvider({
        get: env({ SERVICE_AUTH_CALLERS: 'order-service', SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS: `k1:${apiKey()}:${secret()},k2:${apiKey()}` }),
      }).load(),
    );
    expect(err.message).toMatch(/^SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS: entry 2 /);
  });

  it('a short secret read from a variable is reported by KeyRing with the variable and entry', () => {
    const material = new EnvKeyProvider({
      get: env({ SERVICE_AUTH_CALLERS: 'order-service', SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS: `k1:${apiKey()}:${randomBytes(16).toString('base64url')}` }),
    }).load();
    expect(configError(() => KeyRing.from(material)).message).toContain('SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS (entry 1)');
  });

  it('nothing set is empty material; an empty or blank variable counts as unset', () => {
    expect(new EnvKeyProvider({ get: env({}) }).load()).toEqual({});
    expect(new EnvKeyProvider({ get: env({ SERVICE_AUTH_KEYS: ' ', SERVICE_AUTH_CALLERS: ' , ' }) }).load()).toEqual({});
  });

  it('honours a custom prefix (and ignores the default variables)', () => {
    const [a, s] = [apiKey(), secret()];
    const provider = new EnvKeyProvider({
      prefix: 'INV_AUTH',
      get: env({ INV_AUTH_CALLERS: 'order-service', INV_AUTH_CALLER_ORDER_SERVICE_KEYS: `k1:${a}:${s}`, SERVICE_AUTH_CALLERS: 'ghost' }),
    });
    expect(provider.load().callers?.map((c) => [c.id, c.source])).toEqual([['order-service', 'INV_AUTH_CALLER_ORDER_SERVICE_KEYS']]);
    expect(configError(() => new EnvKeyProvider({ prefix: 'INV_AUTH', get: env({ INV_AUTH_CALLERS: 'x' }) }).load()).message).toContain('INV_AUTH_CALLER_X_KEYS');
  });

  it('reads through a custom getter on every load (rotation)', () => {
    const asked: string[] = [];
    let current = `k1:${apiKey()}:${secret()}`;
    const provider = new EnvKeyProvider({
      get: (name) => {
        asked.push(name);
        return ({ SERVICE_AUTH_CALLERS: 'a', SERVICE_AUTH_CALLER_A_KEYS: current } as Record<string, string>)[name];
      },
    });
    expect(provider.load().callers?.[0].keys[0].id).toBe('k1');
    expect(asked).toEqual(['SERVICE_AUTH_KEYS', 'SERVICE_AUTH_CALLERS', 'SERVICE_AUTH_CALLER_A_KEYS']);
    current = `k2:${apiKey()}:${secret()}`;
    expect(provider.load().callers?.[0].keys[0].id).toBe('k2');
  });

  it('defaults to process.env', () => {
    const names = ['SERVICE_AUTH_KEYS', 'SERVICE_AUTH_CALLERS'];
    const saved = names.map((n) => process.env[n]);
    const [a, s] = [apiKey(), secret()];
    try {
      process.env.SERVICE_AUTH_KEYS = `own:${a}:${s}`;
      delete process.env.SERVICE_AUTH_CALLERS;
      expect(new EnvKeyProvider().load()).toEqual({ credentials: [{ id: 'own', apiKey: a, secret: s, source: 'SERVICE_AUTH_KEYS (entry 1)' }] });
    } finally {
      names.forEach((n, i) => (saved[i] === undefined ? delete process.env[n] : (process.env[n] = saved[i])));
    }
  });
});
