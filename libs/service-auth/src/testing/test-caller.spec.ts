import { describe, expect, it } from '@jest/globals';
import { encryptCompact, decryptCompact } from '../crypto/jwe-compact.js';
import { EnvKeyProvider } from '../keys/env-key-provider.js';
import { KeyConfigurationError } from '../errors/key-configuration.error.js';
import { KeyRing } from '../keys/key-ring.js';
import { httpMessage } from '../protocol/http-message.js';
import { RequestVerifier } from '../protocol/request-verifier.js';
import { MemoryNonceStore } from '../replay/memory-nonce-store.js';
import { testCaller } from './test-caller.js';
import { asHmacKey } from '../keys/key-ring.js';

/** The service under test's verifier, over the key ring its configuration gives it. */
function verifierFor(ring: KeyRing) {
  const verifier = new RequestVerifier(() => ring, new MemoryNonceStore(), { audience: 'inventory-service' });
  return (method: string, target: string, headers: Record<string, string>, body?: Buffer) =>
    verifier.verify(httpMessage({ method, target, headers }), body ?? Buffer.alloc(0)).then((verified) => verified.caller);
}

describe('testCaller', () => {
  const caller = testCaller('order-service', { audience: 'inventory-service' });
  const calleeRing = KeyRing.from({ callers: [caller.asCaller()] }, 'inventory-service');
  const verify = verifierFor(calleeRing);

  it('holds a fresh credential and gives the service under test what accepts it, as options or as variables', () => {
    expect(caller.id).toBe('order-service');
    expect(caller.credential).toEqual({
      id: expect.stringMatching(/^order-service-\d{4}-\d{2}-[0-9a-f]{6}$/),
      apiKey: expect.stringMatching(/^sk_/),
      secret: expect.any(String),
    });
    expect(caller.asCaller()).toEqual({ id: 'order-service', keys: [caller.credential] });
    const fromEnv = KeyRing.from(new EnvKeyProvider({ get: (name) => caller.env()[name] }).load(), 'inventory-service');
    expect(asHmacKey(fromEnv.findByApiKey(caller.credential.apiKey)).hmacKey).toEqual(
      asHmacKey(calleeRing.findByApiKey(caller.credential.apiKey)).hmacKey,
    );
    expect(Object.keys(caller.env('AUTH'))).toEqual(['AUTH_CALLERS', 'AUTH_CALLER_ORDER_SERVICE_KEYS']);
    expect(caller.asUpstream('http://inventory:8082')).toEqual({
      id: 'inventory-service',
      url: 'http://inventory:8082',
      keys: [caller.credential],
    });
    expect(caller.upstreamEnv('http://inventory:8082')).toEqual({
      SERVICE_AUTH_UPSTREAMS: 'inventory-service',
      SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_URL: 'http://inventory:8082',
      SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_KEYS: caller.env().SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS,
    });
    expect(testCaller('order-service', { audience: 'inventory-service' }).credential.apiKey).not.toBe(caller.credential.apiKey);
  });

  it('sign(): headers that verify at the service under test, over the JSON of the body', async () => {
    const body = { productId: 'P123', quantity: 2 };
    const headers = caller.sign('POST', '/api/inventory?dry=1', body, { 'Idempotency-Key': 'k-1' });
    expect(headers).toMatchObject({ 'content-type': 'application/json', 'idempotency-key': 'k-1', 'x-api-key': caller.credential.apiKey });
    expect(headers['signature-input']).toContain('"idempotency-key"');
    expect(headers['signature-input']).toContain('tag="inventory-service"');
    const verified = await verify('POST', '/api/inventory?dry=1', headers, Buffer.from(JSON.stringify(body)));
    expect([verified.id, verified.keyId]).toEqual(['order-service', caller.credential.id]);
    // A fresh nonce every time: two signatures of the same request both verify.
    await expect(verify('GET', '/x', caller.sign('GET', '/x'))).resolves.toMatchObject({ id: 'order-service' });
    await expect(verify('GET', '/x', caller.sign('GET', '/x'))).resolves.toMatchObject({ id: 'order-service' });
  });

  it('prepare() with encrypt: a JWE body under the pair key, signed as sent, and an encrypted answer asked for', async () => {
    const request = caller.prepare('post', '/api/secrets', { card: '4111' }, { encrypt: true });
    expect([request.method, request.path, request.encrypted]).toEqual(['POST', '/api/secrets', true]);
    expect(request.headers).toMatchObject({ 'content-type': 'application/jose', accept: 'application/jose' });
    await expect(verify('POST', '/api/secrets', { ...request.headers }, request.body)).resolves.toMatchObject({
      id: 'order-service',
      nonce: request.nonce,
    });
    const key = calleeRing.findCallerKey('order-service', caller.credential.id)!;
    expect(decryptCompact(request.body!, () => asHmacKey(key).encryptionKey).plaintext.toString()).toBe('{"card":"4111"}');
  });

  it('read(): opens an encrypted answer made for this request, parses JSON, normalises headers', () => {
    const key = calleeRing.findCallerKey('order-service', caller.credential.id)!;
    const request = caller.prepare('POST', '/api/secrets', { card: '4111' }, { encrypt: true });
    const jwe = encryptCompact(Buffer.from('{"stored":"4111"}'), asHmacKey(key).encryptionKey, {
      kid: key.id,
      nonce: request.nonce,
      status: 201,
    });
    expect(request.read({ status: 201, headers: { 'Content-Type': 'application/jose', 'X-Many': ['a', 'b'] }, text: jwe })).toEqual({
      status: 201,
      headers: { 'content-type': 'application/jose', 'x-many': 'a, b' },
      text: jwe,
      body: { stored: '4111' },
      encrypted: true,
    });
    const forAnother = encryptCompact(Buffer.from('{}'), asHmacKey(key).encryptionKey, {
      kid: key.id,
      nonce: 'another-request-nonce-0000',
      status: 201,
    });
    expect(() => request.read({ status: 201, headers: { 'content-type': 'application/jose' }, text: forAnother })).toThrow(
      /not made for this request/,
    );
    // The same answer arriving with another status (a network attacker's 200 for a 201) is refused too.
    expect(() => request.read({ status: 200, headers: { 'content-type': 'application/jose' }, text: jwe })).toThrow(/status/);
  });

  it('read(): a refusal is plaintext and read as such; a successful plaintext answer to an encrypted request fails', () => {
    const request = caller.prepare('POST', '/api/secrets', { card: '4111' }, { encrypt: true });
    const refusal = request.read({ status: 401, headers: { 'content-type': 'application/json' }, text: '{"reason":"api_key_invalid"}' });
    expect([refusal.encrypted, refusal.body]).toEqual([false, { reason: 'api_key_invalid' }]);
    expect(() => request.read({ status: 201, headers: { 'content-type': 'application/json' }, text: '{"stored":"4111"}' })).toThrow(
      'The service answered 201 in plaintext (application/json) to an encrypted request',
    );
    const plain = caller.prepare('GET', '/x');
    expect(plain.read({ status: 200, headers: {}, text: 'not json' })).toMatchObject({
      text: 'not json',
      body: undefined,
      encrypted: false,
    });
  });

  it('refuses a path a URL parser would rewrite, since what is signed must be what is sent', () => {
    expect(() => caller.sign('GET', '/a/../b')).toThrow('"/a/../b" is written "/b" by a URL parser: sign and send that form');
    expect(() => caller.sign('GET', '/search?q=a b')).toThrow(/is written "\/search\?q=a%20b"/);
    expect(() => caller.sign('GET', 'api/x')).toThrow('A test request path starts with "/"');
  });

  it('uses a given credential as it is, and needs the audience', () => {
    const credential = caller.credential;
    expect(testCaller('order-service', { audience: 'inventory-service', credential }).sign('GET', '/x')['x-api-key']).toBe(
      credential.apiKey,
    );
    expect(() => testCaller('order-service', { audience: 'inventory-service', credential: { ...credential, secret: 'c2hvcnQ' } })).toThrow(
      KeyConfigurationError,
    );
    expect(() => testCaller('order-service', {} as never)).toThrow(/needs options.audience/);
    expect(() => testCaller('order service', { audience: 'inventory-service' })).toThrow(KeyConfigurationError);
  });
});
