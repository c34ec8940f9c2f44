import { describe, it, expect } from '@jest/globals';
import { hkdfSync, randomBytes } from 'node:crypto';
import { KeyConfigurationError } from './key-configuration.error.js';
import { deriveKeys, ENCRYPTION_KEY_INFO, HMAC_KEY_INFO } from './key-derivation.js';
import type { CallerDefinition, CredentialDefinition, KeyMaterial } from './key-material.js';
import { KeyRing, MIN_API_KEY_LENGTH, MIN_SECRET_BYTES } from './key-ring.js';

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

const caller = (id: string, keys: CredentialDefinition[] = [{ id: 'k1', apiKey: apiKey(), secret: secret() }], source?: string): CallerDefinition => ({
  id,
  keys,
  source,
});

describe('KeyRing.from: validation', () => {
  it('requires at least 32 bytes of secret', () => {
    expect(MIN_SECRET_BYTES).toBe(32);
    const err = configError({ callers: [caller('order-service', [{ id: 'k1', apiKey: apiKey(), secret: randomBytes(31).toString('base64') }])] });
    expect(err.message).toMatch(/31 bytes; at least 32/);
    expect(err.message).toContain('k1');
  });

  it('the short-secret message names the source (e.g. the environment variable)', () => {
    const err = configError({
      callers: [
        caller('order-service', [
          { id: 'k1', apiKey: apiKey(), secret: randomBytes(16).toString('base64url'), source: 'SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS (entry 1)' },
        ]),
      ],
    });
    expect(err.message).toContain('SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS (entry 1)');
    expect(err.message).toMatch(/16 bytes/);
  });

  it('without a source, the message names the position in the material', () => {
    const err = configError({ callers: [caller('a', [{ id: 'k1', apiKey: apiKey(), secret: secret() }]), caller('b', [{ id: 'k1', apiKey: apiKey(), secret: 'c2hvcnQ=' }])] });
    expect(err.message).toContain('callers[1] ("b").keys[0]');
    expect(configError({ credentials: [{ id: 'own', apiKey: apiKey(), secret: 'c2hvcnQ=' }] }).message).toContain('credentials[0]');
  });

  it('accepts a raw 32-byte secret and refuses a raw 31-byte one', () => {
    expect(() => KeyRing.from({ callers: [caller('a', [{ id: 'k1', apiKey: apiKey(), secret: randomBytes(32) }])] })).not.toThrow();
    expect(configError({ callers: [caller('a', [{ id: 'k1', apiKey: apiKey(), secret: randomBytes(31) }])] }).message).toMatch(/31 bytes/);
  });

  it('a missing secret is refused', () => {
    for (const missing of [undefined, null, '']) {
      const err = configError({ callers: [caller('a', [{ id: 'k1', apiKey: apiKey(), secret: missing as unknown as string, source: 'VAULT secret/a' }])] });
      expect(err.message).toContain('VAULT secret/a');
      expect(err.message).toMatch(/secret of key "k1" is missing/);
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
    const forms = [bytes.toString('base64'), bytes.toString('base64url'), bytes.toString('base64').replace(/=+$/, ''), ` ${bytes.toString('base64')}\n`];
    const hmacKeys = forms.map((s, i) => KeyRing.from({ callers: [caller('a', [{ id: 'k1', apiKey: apiKey(), secret: s }])] }).findCallerKey('a', 'k1')!.hmacKey.toString('hex'));
    expect(new Set(hmacKeys).size).toBe(1);
    expect(hmacKeys[0]).toBe(deriveKeys(bytes).hmacKey.toString('hex'));
  });

  it('requires API keys of at least 32 characters', () => {
    expect(MIN_API_KEY_LENGTH).toBe(32);
    const err = configError({ callers: [caller('a', [{ id: 'k1', apiKey: 'x'.repeat(31), secret: secret(), source: 'SRC' }])] });
    expect(err.message).toMatch(/SRC: API key of key "k1" must be at least 32 characters/);
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
    expect(configError({ callers: [caller('order-service'), caller('order-service')] }).message).toMatch(/"order-service" is configured twice/);
  });

  it('a key id used twice by one caller is refused (but two callers may share a key id)', () => {
    const err = configError({
      callers: [caller('a', [{ id: 'k1', apiKey: apiKey(), secret: secret() }, { id: 'k1', apiKey: apiKey(), secret: secret() }])],
    });
    expect(err.message).toMatch(/key id "k1" twice/);
    expect(() => KeyRing.from({ callers: [caller('a'), caller('b')] })).not.toThrow();
  });

  it('an own key id used twice is refused', () => {
    expect(configError({ credentials: [{ id: 'o1', apiKey: apiKey(), secret: secret() }, { id: 'o1', apiKey: apiKey(), secret: secret() }] }).message).toMatch(
      /key id "o1" is used twice/,
    );
  });

  it('the same API key for two callers (or two keys) is refused', () => {
    const shared = apiKey();
    const err = configError({
      callers: [caller('a', [{ id: 'k1', apiKey: shared, secret: secret() }]), caller('b', [{ id: 'k2', apiKey: shared, secret: secret() }])],
    });
    expect(err.message).toMatch(/also used by "a" key "k1"/);
    expect(err.message).not.toContain(shared);
    expect(configError({ callers: [caller('a', [{ id: 'k1', apiKey: shared, secret: secret() }, { id: 'k2', apiKey: shared, secret: secret() }])] }).message).toMatch(
      /must be unique/,
    );
  });

  it('empty material is a valid (empty) ring', () => {
    const ring = KeyRing.from({});
    expect(ring.callerIds).toEqual([]);
    expect(ring.signingKey).toBeUndefined();
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
      credentials: [
        { id: 'own-new', apiKey: apiKey(), secret: secret() },
        { id: 'own-old', apiKey: apiKey(), secret: secret() },
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

  it('own credentials are not callers: their API keys are not accepted inbound', () => {
    expect(ring.findByApiKey(ring.signingKey!.apiKey)).toBeUndefined();
    expect(ring.hasCaller('inventory-service')).toBe(false);
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

  it('the first own credential signs; every own key can be found by id, owned by serviceId', () => {
    expect(ring.signingKey).toMatchObject({ id: 'own-new', callerId: 'inventory-service' });
    expect(ring.findOwnKey('own-old')?.id).toBe('own-old');
    expect(ring.findOwnKey('k1')).toBeUndefined();
  });
});

describe('key derivation (HKDF-SHA256)', () => {
  const raw = secretBytes();
  const ring = KeyRing.from({ callers: [caller('a', [{ id: 'k1', apiKey: apiKey(), secret: raw.toString('base64url') }])] });
  const key = ring.findCallerKey('a', 'k1')!;

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
