import { describe, it, expect } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { EnvKeyProvider, envName, parseKeyList } from './env-key-provider.js';
import { KeyConfigurationError } from '../errors/key-configuration.error.js';
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
      { id: 'k1', apiKey: a1, secret: s1, source: 'VAR, entry 1' },
      { id: 'k2', apiKey: a2, secret: s2, source: 'VAR, entry 2' },
    ]);
  });

  it('tolerates whitespace and empty entries (a trailing comma)', () => {
    const [a1, s1] = [apiKey(), secret()];
    expect(parseKeyList(`  k1:${a1}:${s1} ,`, 'VAR')).toHaveLength(1);
  });

  it('parses keyId:apiKey:algorithm:secret entries, mixed with 3-part ones', () => {
    const [a1, s1, a2, s2] = [apiKey(), secret(), apiKey(), secret()];
    expect(parseKeyList(`k1:${a1}:hmac-sha256:${s1},k2:${a2}:${s2}`, 'VAR')).toEqual([
      { id: 'k1', apiKey: a1, algorithm: 'hmac-sha256', secret: s1, source: 'VAR, entry 1' },
      { id: 'k2', apiKey: a2, secret: s2, source: 'VAR, entry 2' },
    ]);
  });

  it('a 4-part entry naming an unsupported algorithm is parsed, then refused by KeyRing naming the entry and the supported algorithm', () => {
    const keys = parseKeyList(`k1:${apiKey()}:rsa-pss-sha512:${secret()}`, 'SERVICE_AUTH_CALLER_A_KEYS');
    expect(keys[0].algorithm).toBe('rsa-pss-sha512');
    const err = configError(() => KeyRing.from({ callers: [{ id: 'a', keys }] }));
    expect(err.message).toContain('SERVICE_AUTH_CALLER_A_KEYS, entry 1, part 3 (algorithm)');
    expect(err.message).toMatch(/supported: hmac-sha256/);
  });

  it('a malformed entry is an error naming the variable and the entry number', () => {
    const good = `k1:${apiKey()}:${secret()}`;
    for (const bad of ['k2:only-two', 'k2:a:b:c:d', ':a:b', 'k2::b', 'k2:a:', 'k2:a::b', 'k2:a:hmac-sha256:', 'just-text']) {
      const err = configError(() => parseKeyList(`${good},${bad}`, 'SERVICE_AUTH_CALLER_A_KEYS'));
      expect(err.message).toContain('SERVICE_AUTH_CALLER_A_KEYS');
      expect(err.message).toContain('entry 2');
      expect(err.message).toContain('keyId:apiKey:secret');
    }
  });

  it('the error does not echo the entry (it may contain a secret)', () => {
    const leaky = `k1:${apiKey()}:hmac-sha256:${secret()}:extra`;
    const message = configError(() => parseKeyList(leaky, 'V')).message;
    expect(message).not.toContain(leaky.split(':')[1]);
    expect(message).not.toContain(leaky.split(':')[3]);
  });
});

describe('EnvKeyProvider', () => {
  it('reads callers, with per-caller variables named after the caller id', () => {
    const [orderA, orderB, billing] = [1, 2, 3].map(() => ({ apiKey: apiKey(), secret: secret() }));
    const provider = new EnvKeyProvider({
      get: env({
        SERVICE_AUTH_CALLERS: 'order-service, billing.v2',
        SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS: `k2:${orderB.apiKey}:${orderB.secret},k1:${orderA.apiKey}:${orderA.secret}`,
        SERVICE_AUTH_CALLER_BILLING_V2_KEYS: `b1:${billing.apiKey}:${billing.secret}`,
      }),
    });
    const material = provider.load();
    expect(material).toEqual({
      callers: [
        {
          id: 'order-service',
          source: 'SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS',
          keys: [
            { id: 'k2', apiKey: orderB.apiKey, secret: orderB.secret, source: 'SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS, entry 1' },
            { id: 'k1', apiKey: orderA.apiKey, secret: orderA.secret, source: 'SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS, entry 2' },
          ],
        },
        {
          id: 'billing.v2',
          source: 'SERVICE_AUTH_CALLER_BILLING_V2_KEYS',
          keys: [{ id: 'b1', apiKey: billing.apiKey, secret: billing.secret, source: 'SERVICE_AUTH_CALLER_BILLING_V2_KEYS, entry 1' }],
        },
      ],
    });
    const ring = KeyRing.from(material, 'me');
    expect(ring.findByApiKey(orderA.apiKey)).toMatchObject({ callerId: 'order-service', id: 'k1', audience: 'me' });
    expect(ring.upstreamIds).toEqual([]);
  });

  it('reads upstreams: their url and keys from per-upstream variables named after the upstream id', () => {
    const [invNew, invOld, billing] = [1, 2, 3].map(() => ({ apiKey: apiKey(), secret: secret() }));
    const provider = new EnvKeyProvider({
      get: env({
        SERVICE_AUTH_UPSTREAMS: 'inventory-service , billing.v2,',
        SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_URL: ' http://inventory:8082 ',
        SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_KEYS: `i2:${invNew.apiKey}:${invNew.secret}, i1:${invOld.apiKey}:hmac-sha256:${invOld.secret}`,
        SERVICE_AUTH_UPSTREAM_BILLING_V2_URL: 'https://billing.internal/api',
        SERVICE_AUTH_UPSTREAM_BILLING_V2_KEYS: `b1:${billing.apiKey}:${billing.secret}`,
      }),
    });
    const material = provider.load();
    expect(material).toEqual({
      upstreams: [
        {
          id: 'inventory-service',
          url: 'http://inventory:8082',
          source: 'SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_URL',
          keys: [
            { id: 'i2', apiKey: invNew.apiKey, secret: invNew.secret, source: 'SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_KEYS, entry 1' },
            {
              id: 'i1',
              apiKey: invOld.apiKey,
              algorithm: 'hmac-sha256',
              secret: invOld.secret,
              source: 'SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_KEYS, entry 2',
            },
          ],
        },
        {
          id: 'billing.v2',
          url: 'https://billing.internal/api',
          source: 'SERVICE_AUTH_UPSTREAM_BILLING_V2_URL',
          keys: [{ id: 'b1', apiKey: billing.apiKey, secret: billing.secret, source: 'SERVICE_AUTH_UPSTREAM_BILLING_V2_KEYS, entry 1' }],
        },
      ],
    });
    const ring = KeyRing.from(material, 'order-service');
    expect(ring.upstreamFor('http://inventory:8082/api/inventory')?.keys[0]).toMatchObject({
      id: 'i2',
      callerId: 'order-service',
      audience: 'inventory-service',
    });
    expect(ring.upstreamFor('https://billing.internal/api/invoices')?.id).toBe('billing.v2');
    expect(ring.findByApiKey(invNew.apiKey)).toBeUndefined();
  });

  it('reads callers and upstreams side by side', () => {
    const [c, u] = [1, 2].map(() => ({ apiKey: apiKey(), secret: secret() }));
    const material = new EnvKeyProvider({
      get: env({
        SERVICE_AUTH_CALLERS: 'order-service',
        SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS: `k1:${c.apiKey}:${c.secret}`,
        SERVICE_AUTH_UPSTREAMS: 'pricing-service',
        SERVICE_AUTH_UPSTREAM_PRICING_SERVICE_URL: 'http://pricing:8084',
        SERVICE_AUTH_UPSTREAM_PRICING_SERVICE_KEYS: `p1:${u.apiKey}:${u.secret}`,
      }),
    }).load();
    const ring = KeyRing.from(material, 'inventory-service');
    expect(ring.callerIds).toEqual(['order-service']);
    expect(ring.upstreamIds).toEqual(['pricing-service']);
  });

  it('an upstream named in SERVICE_AUTH_UPSTREAMS without its URL or KEYS variable is an error naming that variable', () => {
    const keys = `u1:${apiKey()}:${secret()}`;
    const noUrl = configError(() =>
      new EnvKeyProvider({
        get: env({ SERVICE_AUTH_UPSTREAMS: 'inventory-service', SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_KEYS: keys }),
      }).load(),
    );
    expect(noUrl.message).toContain('SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_URL is not set');
    expect(noUrl.message).toContain('SERVICE_AUTH_UPSTREAMS');
    expect(noUrl.message).toContain('"inventory-service"');

    const noKeys = configError(() =>
      new EnvKeyProvider({
        get: env({ SERVICE_AUTH_UPSTREAMS: 'inventory-service', SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_URL: 'http://inventory:8082' }),
      }).load(),
    );
    expect(noKeys.message).toContain('SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_KEYS is not set');
    expect(noKeys.message).toContain('SERVICE_AUTH_UPSTREAMS');

    const blank = configError(() =>
      new EnvKeyProvider({
        get: env({
          SERVICE_AUTH_UPSTREAMS: 'inventory-service',
          SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_URL: '  ',
          SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_KEYS: keys,
        }),
      }).load(),
    );
    expect(blank.message).toContain('SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_URL');
    const blankKeys = configError(() =>
      new EnvKeyProvider({
        get: env({
          SERVICE_AUTH_UPSTREAMS: 'inventory-service',
          SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_URL: 'http://inventory:8082',
          SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_KEYS: ' , ',
        }),
      }).load(),
    );
    expect(blankKeys.message).toContain('SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_KEYS');
  });

  it('a bad upstream URL read from a variable is reported by KeyRing with the URL variable', () => {
    const material = new EnvKeyProvider({
      get: env({
        SERVICE_AUTH_UPSTREAMS: 'inventory-service',
        SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_URL: 'inventory:8082',
        SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_KEYS: `u1:${apiKey()}:${secret()}`,
      }),
    }).load();
    expect(configError(() => KeyRing.from(material)).message).toContain('SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_URL');
  });

  it('a malformed upstream key entry is an error naming the KEYS variable and the entry number', () => {
    const err = configError(() =>
      new EnvKeyProvider({
        get: env({
          SERVICE_AUTH_UPSTREAMS: 'inventory-service',
          SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_URL: 'http://inventory:8082',
          SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_KEYS: `u1:${apiKey()}:${secret()},u2:only-two`,
        }),
      }).load(),
    );
    expect(err.message).toMatch(/^SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_KEYS: entry 2 /);
  });

  it('a caller named in SERVICE_AUTH_CALLERS without its variable is an error naming that variable', () => {
    const err = configError(() => new EnvKeyProvider({ get: env({ SERVICE_AUTH_CALLERS: 'order-service' }) }).load());
    expect(err.message).toContain('SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS is not set');
    expect(err.message).toContain('SERVICE_AUTH_CALLERS');
    expect(err.message).toContain('"order-service"');
    const blank = configError(() =>
      new EnvKeyProvider({ get: env({ SERVICE_AUTH_CALLERS: 'order-service', SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS: '  ' }) }).load(),
    );
    expect(blank.message).toContain('SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS');
  });

  it('a malformed entry is an error naming the variable and the entry number', () => {
    const err = configError(() =>
      new EnvKeyProvider({
        get: env({
          SERVICE_AUTH_CALLERS: 'order-service',
          SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS: `k1:${apiKey()}:${secret()},k2:${apiKey()}`,
        }),
      }).load(),
    );
    expect(err.message).toMatch(/^SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS: entry 2 /);
  });

  it('a short secret read from a variable is reported by KeyRing with the variable and entry', () => {
    const material = new EnvKeyProvider({
      get: env({
        SERVICE_AUTH_CALLERS: 'order-service',
        SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS: `k1:${apiKey()}:${randomBytes(16).toString('base64url')}`,
      }),
    }).load();
    expect(configError(() => KeyRing.from(material)).message).toContain('SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS, entry 1, part 3 (secret)');
  });

  it('nothing set is empty material; an empty or blank variable counts as unset', () => {
    expect(new EnvKeyProvider({ get: env({}) }).load()).toEqual({});
    expect(new EnvKeyProvider({ get: env({ SERVICE_AUTH_CALLERS: ' , ', SERVICE_AUTH_UPSTREAMS: ' ,' }) }).load()).toEqual({});
  });

  it('honours a custom prefix (and ignores the default variables)', () => {
    const [a, s] = [apiKey(), secret()];
    const provider = new EnvKeyProvider({
      prefix: 'INV_AUTH',
      get: env({ INV_AUTH_CALLERS: 'order-service', INV_AUTH_CALLER_ORDER_SERVICE_KEYS: `k1:${a}:${s}`, SERVICE_AUTH_CALLERS: 'ghost' }),
    });
    expect(provider.load().callers?.map((c) => [c.id, c.source])).toEqual([['order-service', 'INV_AUTH_CALLER_ORDER_SERVICE_KEYS']]);
    expect(configError(() => new EnvKeyProvider({ prefix: 'INV_AUTH', get: env({ INV_AUTH_CALLERS: 'x' }) }).load()).message).toContain(
      'INV_AUTH_CALLER_X_KEYS',
    );
    expect(configError(() => new EnvKeyProvider({ prefix: 'INV_AUTH', get: env({ INV_AUTH_UPSTREAMS: 'x' }) }).load()).message).toContain(
      'INV_AUTH_UPSTREAM_X_URL',
    );
    const upstreams = new EnvKeyProvider({
      prefix: 'INV_AUTH',
      get: env({
        INV_AUTH_UPSTREAMS: 'x',
        INV_AUTH_UPSTREAM_X_URL: 'http://x',
        INV_AUTH_UPSTREAM_X_KEYS: `k1:${apiKey()}:${secret()}`,
        SERVICE_AUTH_UPSTREAMS: 'ghost',
      }),
    }).load();
    expect(upstreams.upstreams?.map((u) => [u.id, u.url])).toEqual([['x', 'http://x']]);
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
    expect(asked).toEqual([
      'SERVICE_AUTH_CALLERS',
      'SERVICE_AUTH_CALLER_A_KEYS',
      'SERVICE_AUTH_UPSTREAMS',
      'SERVICE_AUTH_ANSWER_KEYS',
      'SERVICE_AUTH_ENCRYPTION_KEYS',
    ]);
    current = `k2:${apiKey()}:${secret()}`;
    expect(provider.load().callers?.[0].keys[0].id).toBe('k2');
  });

  it('defaults to process.env', () => {
    const names = [
      'SERVICE_AUTH_KEYS',
      'SERVICE_AUTH_CALLERS',
      'SERVICE_AUTH_UPSTREAMS',
      'SERVICE_AUTH_UPSTREAM_INV_URL',
      'SERVICE_AUTH_UPSTREAM_INV_KEYS',
    ];
    const saved = names.map((n) => process.env[n]);
    const [a, s] = [apiKey(), secret()];
    try {
      delete process.env.SERVICE_AUTH_KEYS;
      delete process.env.SERVICE_AUTH_CALLERS;
      process.env.SERVICE_AUTH_UPSTREAMS = 'inv';
      process.env.SERVICE_AUTH_UPSTREAM_INV_URL = 'http://inv:8082';
      process.env.SERVICE_AUTH_UPSTREAM_INV_KEYS = `own:${a}:${s}`;
      expect(new EnvKeyProvider().load()).toEqual({
        upstreams: [
          {
            id: 'inv',
            url: 'http://inv:8082',
            source: 'SERVICE_AUTH_UPSTREAM_INV_URL',
            keys: [{ id: 'own', apiKey: a, secret: s, source: 'SERVICE_AUTH_UPSTREAM_INV_KEYS, entry 1' }],
          },
        ],
      });
    } finally {
      names.forEach((n, i) => (saved[i] === undefined ? delete process.env[n] : (process.env[n] = saved[i])));
    }
  });
});

describe('a key list whose entries have their parts in the wrong order', () => {
  const VAR = 'SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS';
  /** KeyRing's refusal of what the provider read from `list` for order-service. */
  const refusal = (list: string) =>
    configError(() => KeyRing.from(new EnvKeyProvider({ get: env({ SERVICE_AUTH_CALLERS: 'order-service', [VAR]: list }) }).load()));
  const good = () => `k1:${apiKey()}:${secret()}`;

  it('never prints a value of the list, and names the entry by position and part', () => {
    const s = secret();
    const k = apiKey();
    // The secret in the key-id slot, the key id in the secret's: a 2-byte "secret".
    const shortSecret = refusal(`${good()},${s}:${k}:k2ab`);
    expect(shortSecret.message).toContain(`${VAR}, entry 2, part 3 (secret)`);
    // The secret in the key-id slot, and a duplicate of entry 1's id… (or its API key)
    const first = good();
    const duplicateKey = refusal(`${first},${s}:${first.split(':')[1]}:${secret()}`);
    expect(duplicateKey.message).toContain(`${VAR}, entry 2, part 2 (API key)`);
    const sameId = refusal(`${s}:${apiKey()}:${secret()},${s}:${apiKey()}:${secret()}`);
    expect(sameId.message).toContain(`${VAR}, entry 2, part 1 (key id)`);
    const sameSecret = `${secret()}`;
    const secretTwice = refusal(`${s}:${apiKey()}:${sameSecret},k2:${apiKey()}:${sameSecret}`);
    expect(secretTwice.message).toContain(`${VAR}, entry 2, part 3 (secret)`);
    // The secret in the algorithm's slot of a four-part entry.
    const algorithm = refusal(`k1:${k}:${s}:${secret()}`);
    expect(algorithm.message).toContain(`${VAR}, entry 1, part 3 (algorithm)`);
    const shortApiKey = refusal(`${s}:short:${secret()}`);
    expect(shortApiKey.message).toContain(`${VAR}, entry 1, part 2 (API key)`);
    for (const err of [shortSecret, duplicateKey, sameId, secretTwice, algorithm, shortApiKey]) {
      expect(err.message).not.toContain(s);
      expect(err.message).not.toContain(k);
      expect(err.message).not.toContain('k2ab');
    }
  });

  it('refuses a secret where the API key goes and an API key where the secret goes (keyId:secret:apiKey)', () => {
    const s = secret();
    const k = apiKey();
    const swapped = refusal(`${good()},k2:${s}:${k}`);
    expect(swapped.message).toContain(`${VAR}, entry 2, part 2 (API key)`);
    expect(swapped.message).toMatch(/looks like a secret/);
    expect(swapped.message).not.toContain(s);
    expect(swapped.message).not.toContain(k);
    // Each check on its own.
    const apiKeyAsSecret = refusal(`k1:${apiKey()}:${apiKey()}`);
    expect(apiKeyAsSecret.message).toContain(`${VAR}, entry 1, part 3 (secret)`);
    expect(apiKeyAsSecret.message).toMatch(/looks like an API key/);
    const padded = randomBytes(32).toString('base64');
    expect(refusal(`k1:${padded}:${secret()}`).message).toMatch(/entry 1, part 2 \(API key\) looks like a secret/);
  });

  it('still accepts API keys of other shapes than sk_…, and secrets longer than 32 bytes', () => {
    expect(() =>
      KeyRing.from(
        new EnvKeyProvider({
          get: env({
            SERVICE_AUTH_CALLERS: 'order-service',
            [VAR]: `k1:sk_${randomBytes(32).toString('hex')}:${secret()},k2:${'x'.repeat(32)}:${randomBytes(48).toString('base64')}`,
          }),
        }).load(),
      ),
    ).not.toThrow();
  });
});
