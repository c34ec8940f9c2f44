import { describe, it, expect } from '@jest/globals';
import { hkdfSync, randomBytes } from 'node:crypto';
import { KeyConfigurationError } from '../errors/key-configuration.error.js';
import { deriveKeys, ENCRYPTION_KEY_INFO, HMAC_KEY_INFO } from './key-derivation.js';
import type { CallerDefinition, CredentialDefinition, KeyMaterial, UpstreamDefinition } from './key-material.js';
import { KeyRing, MIN_API_KEY_LENGTH, MIN_SECRET_BYTES } from './key-ring.js';
import { asHmacKey } from './key-ring.js';

const secretBytes = () => randomBytes(32);
const secret = () => secretBytes().toString('base64url');
const apiKey = () => 'sk_' + randomBytes(32).toString('base64url');

function configError(material: KeyMaterial, serviceId?: string): KeyConfigurationError {
  try {
    KeyRing.from(material, serviceId);
  } catch (err) {
    expect(err).toBeInstanceOf(KeyConfigurationError);
    return err as KeyConfigurationError;
  }
  throw new Error('KeyRing.from accepted the material');
}

const caller = (
  id: string,
  keys: CredentialDefinition[] = [{ id: 'k1', apiKey: apiKey(), secret: secret() }],
  source?: string,
): CallerDefinition => ({
  id,
  keys,
  source,
});

const upstream = (
  id: string,
  url: string,
  keys: CredentialDefinition[] = [{ id: 'u1', apiKey: apiKey(), secret: secret() }],
  source?: string,
): UpstreamDefinition => ({ id, url, keys, source });

describe('KeyRing.from: validation', () => {
  it('requires at least 32 bytes of secret', () => {
    expect(MIN_SECRET_BYTES).toBe(32);
    const err = configError({
      callers: [caller('order-service', [{ id: 'k1', apiKey: apiKey(), secret: randomBytes(31).toString('base64') }])],
    });
    expect(err.message).toMatch(/31 bytes; at least 32/);
    expect(err.message).toContain('callers[0] ("order-service").keys[0].secret');
  });

  it('the short-secret message names the source (e.g. the environment variable)', () => {
    const err = configError({
      callers: [
        caller('order-service', [
          {
            id: 'k1',
            apiKey: apiKey(),
            secret: randomBytes(16).toString('base64url'),
            source: 'SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS, entry 1',
          },
        ]),
      ],
    });
    expect(err.message).toContain('SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS, entry 1');
    expect(err.message).toMatch(/16 bytes/);
  });

  it('without a source, the message names the position in the material', () => {
    const err = configError({
      callers: [
        caller('a', [{ id: 'k1', apiKey: apiKey(), secret: secret() }]),
        caller('b', [{ id: 'k1', apiKey: apiKey(), secret: 'c2hvcnQ=' }]),
      ],
    });
    expect(err.message).toContain('callers[1]');
    expect(err.message).toContain('"b"');
    expect(err.message).toContain('.keys[0]');
    const upstreamErr = configError({
      upstreams: [upstream('inventory-service', 'http://inventory:8082', [{ id: 'own', apiKey: apiKey(), secret: 'c2hvcnQ=' }])],
    });
    expect(upstreamErr.message).toContain('upstreams[0]');
    expect(upstreamErr.message).toContain('"inventory-service"');
  });

  it('accepts a raw 32-byte secret and refuses a raw 31-byte one', () => {
    expect(() => KeyRing.from({ callers: [caller('a', [{ id: 'k1', apiKey: apiKey(), secret: randomBytes(32) }])] })).not.toThrow();
    expect(configError({ callers: [caller('a', [{ id: 'k1', apiKey: apiKey(), secret: randomBytes(31) }])] }).message).toMatch(/31 bytes/);
  });

  it('a missing secret is refused', () => {
    for (const missing of [undefined, null, '']) {
      const err = configError({
        callers: [caller('a', [{ id: 'k1', apiKey: apiKey(), secret: missing as unknown as string, source: 'VAULT secret/a' }])],
      });
      expect(err.message).toContain('VAULT secret/a');
      expect(err.message).toMatch(/VAULT secret\/a, part 3 \(secret\) is missing/);
    }
  });

  it('a secret that is not base64 is refused', () => {
    for (const bad of ['not base64 at all!', 'abc$def'.repeat(8), '====', 'aGVsbG8=x' + 'A'.repeat(40)]) {
      const err = configError({ callers: [caller('a', [{ id: 'k1', apiKey: apiKey(), secret: bad, source: 'MY_VAR' }])] });
      expect(err.message).toContain('MY_VAR');
      expect(err.message).toMatch(/base64/);
    }
  });

  it('accepts base64 and base64url, padded or not, and they decode to the same key', () => {
    let bytes: Buffer;
    do bytes = randomBytes(32);
    while (!/[+/]/.test(bytes.toString('base64'))); // make sure the two alphabets actually differ
    const forms = [
      bytes.toString('base64'),
      bytes.toString('base64url'),
      bytes.toString('base64').replace(/=+$/, ''),
      ` ${bytes.toString('base64')}\n`,
    ];
    const hmacKeys = forms
      .map((s) => KeyRing.from({ callers: [caller('a', [{ id: 'k1', apiKey: apiKey(), secret: s }])] }).findCallerKey('a', 'k1'))
      .map((key) => asHmacKey(key).hmacKey.toString('hex'));
    expect(new Set(hmacKeys).size).toBe(1);
    expect(hmacKeys[0]).toBe(deriveKeys(bytes).hmacKey.toString('hex'));
  });

  it('requires API keys of at least 32 characters', () => {
    expect(MIN_API_KEY_LENGTH).toBe(32);
    const err = configError({ callers: [caller('a', [{ id: 'k1', apiKey: 'x'.repeat(31), secret: secret(), source: 'SRC' }])] });
    expect(err.message).toMatch(/SRC, part 2 \(API key\) must be at least 32 characters/);
    expect(() => KeyRing.from({ callers: [caller('a', [{ id: 'k1', apiKey: 'x'.repeat(32), secret: secret() }])] })).not.toThrow();
  });

  it('the error never contains the secret or the API key', () => {
    const short = randomBytes(20).toString('base64url');
    const key = 'x'.repeat(31);
    const a = configError({ callers: [caller('a', [{ id: 'k1', apiKey: apiKey(), secret: short }])] });
    const b = configError({ callers: [caller('a', [{ id: 'k1', apiKey: key, secret: secret() }])] });
    expect(a.message).not.toContain(short);
    expect(b.message).not.toContain(key);
  });

  it('a caller without keys is refused', () => {
    expect(configError({ callers: [{ id: 'order-service', keys: [] }] }).message).toMatch(/"order-service" has no keys/);
    expect(configError({ callers: [{ id: 'order-service', keys: undefined as never, source: 'ENV_X' }] }).message).toMatch(/ENV_X/);
  });

  it('an invalid caller id or key id is refused', () => {
    expect(configError({ callers: [caller('order service')] }).message).toMatch(/caller id/);
    expect(configError({ callers: [caller('a:b')] }).message).toMatch(/caller id/);
    expect(configError({ callers: [caller('a', [{ id: 'k:1', apiKey: apiKey(), secret: secret() }])] }).message).toMatch(/key id/);
    expect(configError({ callers: [caller('a', [{ id: '', apiKey: apiKey(), secret: secret() }])] }).message).toMatch(/key id/);
  });

  it('a caller configured twice is refused', () => {
    expect(configError({ callers: [caller('order-service'), caller('order-service')] }).message).toMatch(
      /"order-service" is configured twice/,
    );
  });

  it('a key id used twice by one caller is refused (but two callers may share a key id)', () => {
    const err = configError({
      callers: [
        caller('a', [
          { id: 'k1', apiKey: apiKey(), secret: secret() },
          { id: 'k1', apiKey: apiKey(), secret: secret() },
        ]),
      ],
    });
    expect(err.message).toMatch(/callers\[0\] \("a"\)\.keys\[1\]\.id repeats the key id at callers\[0\] \("a"\)\.keys\[0\]/);
    expect(() => KeyRing.from({ callers: [caller('a'), caller('b')] })).not.toThrow();
  });

  it('a key id used twice by one upstream is refused (but two upstreams may share a key id)', () => {
    const err = configError({
      upstreams: [
        upstream('inventory-service', 'http://inventory:8082', [
          { id: 'o1', apiKey: apiKey(), secret: secret() },
          { id: 'o1', apiKey: apiKey(), secret: secret() },
        ]),
      ],
    });
    expect(err.message).toMatch(/upstreams\[0\] \("inventory-service"\)\.keys\[1\]\.id repeats the key id/);
    expect(() =>
      KeyRing.from({
        upstreams: [
          upstream('a', 'http://a', [{ id: 'k1', apiKey: apiKey(), secret: secret() }]),
          upstream('b', 'http://b', [{ id: 'k1', apiKey: apiKey(), secret: secret() }]),
        ],
      }),
    ).not.toThrow();
  });

  it('the same API key for two callers (or two keys) is refused', () => {
    const shared = apiKey();
    const err = configError({
      callers: [
        caller('a', [{ id: 'k1', apiKey: shared, secret: secret() }]),
        caller('b', [{ id: 'k2', apiKey: shared, secret: secret() }]),
      ],
    });
    expect(err.message).toMatch(/callers\[1\] \("b"\)\.keys\[0\]\.apiKey is also the API key at callers\[0\] \("a"\)\.keys\[0\]/);
    expect(err.message).not.toContain(shared);
    expect(
      configError({
        callers: [
          caller('a', [
            { id: 'k1', apiKey: shared, secret: secret() },
            { id: 'k2', apiKey: shared, secret: secret() },
          ]),
        ],
      }).message,
    ).toMatch(/needs its own API key/);
  });

  it('an unknown algorithm is refused, naming the supported ones; hmac-sha256 (or none) is accepted', () => {
    const err = configError({
      callers: [caller('a', [{ id: 'k1', algorithm: 'rsa-pss-sha512' as never, apiKey: apiKey(), secret: secret(), source: 'SRC' }])],
    });
    expect(err.message).toContain('SRC');
    expect(err.message).toMatch(/SRC, part 3 \(algorithm\) is not a supported algorithm/);
    expect(err.message).toMatch(/supported: hmac-sha256, ed25519/);
    for (const algorithm of ['HMAC-SHA256', 'hmac-sha512', '']) {
      expect(
        configError({
          upstreams: [upstream('b', 'http://b', [{ id: 'k1', algorithm: algorithm as never, apiKey: apiKey(), secret: secret() }])],
        }).message,
      ).toMatch(/supported: hmac-sha256/);
    }
    const ring = KeyRing.from({
      callers: [caller('a', [{ id: 'k1', algorithm: 'hmac-sha256', apiKey: apiKey(), secret: secret() }]), caller('b')],
    });
    expect(ring.findCallerKey('a', 'k1')?.algorithm).toBe('hmac-sha256');
    expect(ring.findCallerKey('b', 'k1')?.algorithm).toBe('hmac-sha256');
  });

  it('empty material is a valid (empty) ring', () => {
    const ring = KeyRing.from({});
    expect(ring.callerIds).toEqual([]);
    expect(ring.upstreamIds).toEqual([]);
    expect(ring.upstreamFor('http://inventory:8082/api')).toBeUndefined();
  });
});

describe('KeyRing.from: one credential per (caller, callee) pair', () => {
  it('the same API key for a caller and an upstream is refused, naming both', () => {
    const shared = apiKey();
    const err = configError({
      callers: [caller('order-service', [{ id: 'k1', apiKey: shared, secret: secret() }])],
      upstreams: [upstream('inventory-service', 'http://inventory:8082', [{ id: 'u1', apiKey: shared, secret: secret() }])],
    });
    expect(err.message).toMatch(/upstreams\[0\] \("inventory-service"\)\.keys\[0\]\.apiKey/);
    expect(err.message).toMatch(/at callers\[0\] \("order-service"\)\.keys\[0\]/);
    expect(err.message).not.toContain(shared);
  });

  it('the same API key for two upstreams is refused, naming both', () => {
    const shared = apiKey();
    const err = configError({
      upstreams: [
        upstream('inventory-service', 'http://inventory:8082', [{ id: 'u1', apiKey: shared, secret: secret() }]),
        upstream('billing-service', 'http://billing:8083', [{ id: 'u2', apiKey: shared, secret: secret() }]),
      ],
    });
    expect(err.message).toMatch(
      /upstreams\[1\] \("billing-service"\)\.keys\[0\]\.apiKey is also the API key at upstreams\[0\] \("inventory-service"\)\.keys\[0\]/,
    );
    expect(err.message).not.toContain(shared);
  });

  it('the same secret for a caller and an upstream is refused, naming both (whoever holds it could sign as the other)', () => {
    const shared = secret();
    const err = configError({
      callers: [caller('order-service', [{ id: 'k1', apiKey: apiKey(), secret: shared }])],
      upstreams: [upstream('inventory-service', 'http://inventory:8082', [{ id: 'u1', apiKey: apiKey(), secret: shared }])],
    });
    expect(err.message).toMatch(
      /upstreams\[0\] \("inventory-service"\)\.keys\[0\]\.secret is also the secret at callers\[0\] \("order-service"\)\.keys\[0\]/,
    );
    expect(err.message).not.toContain(shared);
  });

  it('the same secret for two upstreams is refused, naming both', () => {
    const shared = secret();
    const err = configError({
      upstreams: [
        upstream('inventory-service', 'http://inventory:8082', [{ id: 'u1', apiKey: apiKey(), secret: shared }]),
        upstream('billing-service', 'http://billing:8083', [{ id: 'u2', apiKey: apiKey(), secret: shared }]),
      ],
    });
    expect(err.message).toMatch(
      /upstreams\[1\] \("billing-service"\)\.keys\[0\]\.secret is also the secret at upstreams\[0\] \("inventory-service"\)\.keys\[0\]/,
    );
  });

  it('the same secret for two callers is refused, naming both', () => {
    const shared = secret();
    const err = configError({
      callers: [
        caller('a', [{ id: 'k1', apiKey: apiKey(), secret: shared }]),
        caller('b', [{ id: 'k2', apiKey: apiKey(), secret: shared }]),
      ],
    });
    expect(err.message).toMatch(/callers\[1\] \("b"\)\.keys\[0\]\.secret is also the secret at callers\[0\] \("a"\)\.keys\[0\]/);
  });

  it('the same secret written in two encodings (base64 vs base64url vs raw bytes) is still the same secret', () => {
    let bytes: Buffer;
    do bytes = randomBytes(32);
    while (!/[+/]/.test(bytes.toString('base64')));
    const err = configError({
      callers: [caller('a', [{ id: 'k1', apiKey: apiKey(), secret: bytes.toString('base64') }])],
      upstreams: [upstream('b', 'http://b', [{ id: 'k2', apiKey: apiKey(), secret: bytes.toString('base64url') }])],
    });
    expect(err.message).toMatch(/upstreams\[0\] \("b"\)\.keys\[0\]\.secret is also the secret at callers\[0\] \("a"\)\.keys\[0\]/);
    expect(
      configError({
        callers: [
          caller('a', [{ id: 'k1', apiKey: apiKey(), secret: bytes }]),
          caller('c', [{ id: 'k1', apiKey: apiKey(), secret: bytes.toString('base64') }]),
        ],
      }).message,
    ).toMatch(/callers\[1\] \("c"\)\.keys\[0\]\.secret is also the secret/);
  });

  it('distinct API keys and secrets everywhere are accepted', () => {
    expect(() =>
      KeyRing.from({
        callers: [caller('order-service'), caller('billing-service')],
        upstreams: [upstream('inventory-service', 'http://inventory:8082'), upstream('pricing-service', 'http://pricing:8084')],
      }),
    ).not.toThrow();
  });
});

describe('KeyRing.from: upstreams', () => {
  it('an upstream without keys is refused', () => {
    expect(configError({ upstreams: [upstream('inventory-service', 'http://inventory:8082', [])] }).message).toMatch(
      /upstream "inventory-service" has no keys/,
    );
    expect(
      configError({ upstreams: [{ id: 'inventory-service', url: 'http://inventory:8082', keys: undefined as never, source: 'ENV_U' }] })
        .message,
    ).toMatch(/ENV_U/);
  });

  it('an invalid upstream id is refused', () => {
    for (const id of ['inventory service', 'a:b', '', undefined]) {
      expect(configError({ upstreams: [upstream(id as string, 'http://inventory:8082')] }).message).toMatch(/upstream id/);
    }
  });

  it('an upstream configured twice is refused', () => {
    expect(
      configError({ upstreams: [upstream('inventory-service', 'http://a'), upstream('inventory-service', 'http://b')] }).message,
    ).toMatch(/upstream "inventory-service" is configured twice/);
  });

  it('two upstreams at the same url are refused, also when the urls differ only in how they are written', () => {
    const pairs = [
      ['http://inventory:8082', 'http://inventory:8082'],
      ['http://inventory:80', 'http://inventory'],
      ['https://inventory:443/api', 'https://INVENTORY/api/'],
    ];
    for (const [a, b] of pairs) {
      const err = configError({ upstreams: [upstream('one', a), upstream('two', b)] });
      expect(err.message).toMatch(/upstreams "one" and "two" have the same url/);
    }
  });

  it('the url must be an absolute http:// or https:// URL', () => {
    for (const url of [
      'inventory:8082',
      '/api',
      '',
      'ftp://inventory',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'not a url',
      42,
      undefined,
    ]) {
      const err = configError({
        upstreams: [upstream('inventory-service', url as string, undefined, 'SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_URL')],
      });
      expect(err.message).toContain('SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_URL');
      expect(err.message).toMatch(/url must be an absolute http:\/\/ or https:\/\/ URL/);
    }
  });

  it('the url may not carry credentials, a query or a fragment, and the message does not echo it', () => {
    for (const url of [
      'http://user:hunter2@inventory:8082',
      'http://user@inventory:8082',
      'http://inventory:8082/?token=hunter2',
      'http://inventory:8082/?',
      'http://inventory:8082/#hunter2',
      'http://inventory:8082/#',
    ]) {
      const err = configError({ upstreams: [upstream('inventory-service', url)] });
      expect(err.message).toMatch(/without credentials, query or fragment/);
      expect(err.message).not.toContain('hunter2');
    }
  });

  it('accepts http and https with or without port and base path, normalised', () => {
    const ring = KeyRing.from({
      upstreams: [
        upstream('a', 'http://inventory:8082'),
        upstream('b', 'https://Billing.Internal:443/api/v1/'),
        upstream('c', 'http://pricing/'),
      ],
    });
    expect(ring.upstreamIds).toEqual(['a', 'b', 'c']);
    expect(ring.upstream('a')).toMatchObject({ id: 'a', origin: 'http://inventory:8082', basePath: '', url: 'http://inventory:8082' });
    expect(ring.upstream('b')).toMatchObject({
      origin: 'https://billing.internal',
      basePath: '/api/v1',
      url: 'https://billing.internal/api/v1',
    });
    expect(ring.upstream('c')).toMatchObject({ origin: 'http://pricing', basePath: '', url: 'http://pricing' });
    expect(ring.upstream('nope')).toBeUndefined();
  });
});

describe('KeyRing: lookups', () => {
  const aKey = apiKey();
  const bKey1 = apiKey();
  const bKey2 = apiKey();
  const ring = KeyRing.from(
    {
      callers: [
        caller('order-service', [{ id: 'k1', apiKey: aKey, secret: secret() }]),
        caller('billing-service', [
          { id: 'b1', apiKey: bKey1, secret: secret() },
          { id: 'b2', apiKey: bKey2, secret: secret() },
        ]),
      ],
      upstreams: [
        upstream('pricing-service', 'http://pricing:8084', [
          { id: 'own-new', apiKey: apiKey(), secret: secret() },
          { id: 'own-old', apiKey: apiKey(), secret: secret() },
        ]),
      ],
    },
    'inventory-service',
  );

  it('findByApiKey finds the right caller and key', () => {
    expect(ring.findByApiKey(aKey)).toMatchObject({ callerId: 'order-service', id: 'k1', apiKey: aKey });
    expect(ring.findByApiKey(bKey1)).toMatchObject({ callerId: 'billing-service', id: 'b1' });
    expect(ring.findByApiKey(bKey2)).toMatchObject({ callerId: 'billing-service', id: 'b2' });
  });

  it('findByApiKey returns undefined for an unknown key, a prefix, an extension or a case change of a valid key', () => {
    expect(ring.findByApiKey(apiKey())).toBeUndefined();
    expect(ring.findByApiKey(aKey.slice(0, 32))).toBeUndefined();
    expect(ring.findByApiKey(aKey.slice(0, -1))).toBeUndefined();
    expect(ring.findByApiKey(aKey + ' ')).toBeUndefined();
    expect(ring.findByApiKey(aKey.toUpperCase())).toBeUndefined();
    expect(ring.findByApiKey('')).toBeUndefined();
  });

  it('upstream credentials are not callers: their API keys are not accepted inbound', () => {
    for (const key of ring.upstream('pricing-service')!.keys) expect(ring.findByApiKey(key.apiKey)).toBeUndefined();
    expect(ring.hasCaller('inventory-service')).toBe(false);
    expect(ring.hasCaller('pricing-service')).toBe(false);
  });

  it('a caller key is signed by the caller, for this service; an upstream key is signed by this service, for the upstream', () => {
    expect(ring.findCallerKey('order-service', 'k1')).toMatchObject({
      callerId: 'order-service',
      audience: 'inventory-service',
      algorithm: 'hmac-sha256',
    });
    expect(ring.upstream('pricing-service')!.keys[0]).toMatchObject({
      id: 'own-new',
      callerId: 'inventory-service',
      audience: 'pricing-service',
      algorithm: 'hmac-sha256',
    });
    expect(ring.serviceId).toBe('inventory-service');
  });

  it('findCallerKey only finds a key of that caller', () => {
    expect(ring.findCallerKey('billing-service', 'b2')?.apiKey).toBe(bKey2);
    expect(ring.findCallerKey('order-service', 'b1')).toBeUndefined();
    expect(ring.findCallerKey('nobody', 'k1')).toBeUndefined();
  });

  it('callerIds / hasCaller list the configured callers', () => {
    expect(ring.callerIds).toEqual(['order-service', 'billing-service']);
    expect(ring.hasCaller('order-service')).toBe(true);
    expect(ring.hasCaller('Order-Service')).toBe(false);
  });

  it("an upstream keeps its keys in order (the first signs); findUpstreamKey finds only that upstream's keys", () => {
    expect(ring.upstreamIds).toEqual(['pricing-service']);
    expect(ring.upstream('pricing-service')!.keys.map((k) => k.id)).toEqual(['own-new', 'own-old']);
    expect(ring.findUpstreamKey('pricing-service', 'own-old')?.id).toBe('own-old');
    expect(ring.findUpstreamKey('pricing-service', 'k1')).toBeUndefined();
    expect(ring.findUpstreamKey('order-service', 'k1')).toBeUndefined();
    expect(ring.findUpstreamKey('nobody', 'own-new')).toBeUndefined();
  });
});

describe('KeyRing.upstreamFor', () => {
  const ring = KeyRing.from(
    {
      upstreams: [
        upstream('inventory-service', 'http://inventory:8082'),
        upstream('billing-api', 'https://billing.internal/api'),
        upstream('billing-api-v2', 'https://billing.internal/api/v2'),
        upstream('billing-admin', 'https://billing.internal/admin'),
      ],
    },
    'order-service',
  );
  const idFor = (url: string | URL) => ring.upstreamFor(url)?.id;

  it('a URL at an origin-wide upstream matches it, whatever the path and query', () => {
    for (const url of [
      'http://inventory:8082',
      'http://inventory:8082/',
      'http://inventory:8082/api/inventory?sku=A-1',
      'http://INVENTORY:8082/x',
    ]) {
      expect(idFor(url)).toBe('inventory-service');
    }
    expect(idFor(new URL('http://inventory:8082/api'))).toBe('inventory-service');
  });

  it('a base path covers itself and the paths below it, on a segment boundary only', () => {
    expect(idFor('https://billing.internal/api')).toBe('billing-api');
    expect(idFor('https://billing.internal/api/')).toBe('billing-api');
    expect(idFor('https://billing.internal/api/invoices?x=1')).toBe('billing-api');
    expect(idFor('https://billing.internal/apix')).toBeUndefined();
    expect(idFor('https://billing.internal/apix/invoices')).toBeUndefined();
    expect(idFor('https://billing.internal/ap')).toBeUndefined();
    expect(idFor('https://billing.internal/')).toBeUndefined();
    expect(idFor('https://billing.internal/API/invoices')).toBeUndefined();
  });

  it('the longest matching base path wins, whatever the configuration order', () => {
    expect(idFor('https://billing.internal/api/v2')).toBe('billing-api-v2');
    expect(idFor('https://billing.internal/api/v2/invoices')).toBe('billing-api-v2');
    expect(idFor('https://billing.internal/api/v20/invoices')).toBe('billing-api');
    expect(idFor('https://billing.internal/api/v1/invoices')).toBe('billing-api');
    expect(idFor('https://billing.internal/admin/users')).toBe('billing-admin');

    const reversed = KeyRing.from({
      upstreams: [upstream('deep', 'http://h/a/b'), upstream('root', 'http://h'), upstream('mid', 'http://h/a')],
    });
    expect(reversed.upstreamFor('http://h/a/b/c')?.id).toBe('deep');
    expect(reversed.upstreamFor('http://h/a/c')?.id).toBe('mid');
    expect(reversed.upstreamFor('http://h/c')?.id).toBe('root');
  });

  it('dot segments are resolved before matching: /api/../admin is not under /api', () => {
    expect(idFor('https://billing.internal/api/../admin/users')).toBe('billing-admin');
    expect(idFor('https://billing.internal/api/%2e%2e/secret')).toBeUndefined();
    expect(idFor('https://billing.internal/admin/../api/v2/x')).toBe('billing-api-v2');
  });

  it('another host, port or scheme matches nothing', () => {
    for (const url of [
      'http://inventory:8083/api',
      'http://inventory/api',
      'https://inventory:8082/api',
      'http://inventory.evil:8082/api',
      'http://evil-inventory:8082/api',
      'http://billing.internal/api',
      'https://billing.internal:8443/api',
      'https://billing.internal.evil/api',
      'https://evil/billing.internal/api',
    ]) {
      expect(idFor(url)).toBeUndefined();
    }
  });

  it('a default port written out is the same origin', () => {
    expect(idFor('https://billing.internal:443/api/x')).toBe('billing-api');
  });

  it('URL userinfo does not make another host look like an upstream', () => {
    expect(idFor('http://inventory:8082@evil:8082/api')).toBeUndefined();
  });

  it('a relative or unparseable URL matches nothing (and does not throw)', () => {
    for (const url of ['/api/inventory', 'inventory:8082/api', '', 'http://', '::::']) {
      expect(idFor(url)).toBeUndefined();
    }
  });
});

describe('key derivation (HKDF-SHA256)', () => {
  const raw = secretBytes();
  const ring = KeyRing.from({ callers: [caller('a', [{ id: 'k1', apiKey: apiKey(), secret: raw.toString('base64url') }])] });
  const key = asHmacKey(ring.findCallerKey('a', 'k1'));

  it('the HMAC key is HKDF-SHA256(secret, empty salt, HMAC info), 32 bytes (checked against node:crypto)', () => {
    const expected = Buffer.from(hkdfSync('sha256', raw, Buffer.alloc(0), HMAC_KEY_INFO, 32));
    expect(key.hmacKey.length).toBe(32);
    expect(key.hmacKey.equals(expected)).toBe(true);
  });

  it('the encryption key is HKDF-SHA256 under its own info label', () => {
    const expected = Buffer.from(hkdfSync('sha256', raw, Buffer.alloc(0), ENCRYPTION_KEY_INFO, 32));
    expect(key.encryptionKey.equals(expected)).toBe(true);
    expect(HMAC_KEY_INFO).not.toBe(ENCRYPTION_KEY_INFO);
  });

  it('the two derived keys differ from each other and from the secret', () => {
    expect(key.hmacKey.equals(key.encryptionKey)).toBe(false);
    expect(key.hmacKey.equals(raw)).toBe(false);
    expect(key.encryptionKey.equals(raw)).toBe(false);
  });

  it('derivation is deterministic and secret-dependent', () => {
    const again = deriveKeys(raw);
    expect(again.hmacKey.equals(key.hmacKey)).toBe(true);
    expect(again.encryptionKey.equals(key.encryptionKey)).toBe(true);
    const other = deriveKeys(secretBytes());
    expect(other.hmacKey.equals(key.hmacKey)).toBe(false);
    expect(other.encryptionKey.equals(key.encryptionKey)).toBe(false);
  });
});

describe('KeyRing.from: refusals never echo secrets', () => {
  it('a secret written where the algorithm goes is not echoed', () => {
    const s = secret();
    const err = configError({
      callers: [caller('a', [{ id: 'k1', apiKey: apiKey(), algorithm: s as never, secret: 'hmac-sha256', source: 'SRC, entry 1' }])],
    });
    expect(err.message).toContain('SRC, entry 1');
    expect(err.message).not.toContain(s);
  });

  it('an upstream URL with a password is not echoed when refused', () => {
    for (const url of ['ftp://svc:hunter2@inventory:8082', 'htp//svc:hunter2@inventory:8082', 'http://svc:hunter2@inventory:8082']) {
      expect(
        configError({ upstreams: [{ id: 'inventory-service', url, keys: [{ id: 'k1', apiKey: apiKey(), secret: secret() }] }] }).message,
      ).not.toContain('hunter2');
    }
  });

  it('a key without a source is located as callers[i] ("id").keys[k]', () => {
    const err = configError({ callers: [caller('a'), caller('b', [{ id: 'k1', apiKey: apiKey(), secret: 'c2hvcnQ=' }])] });
    expect(err.message).toContain('callers[1] ("b").keys[0]');
  });
});
