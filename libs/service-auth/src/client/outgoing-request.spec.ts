import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { decryptCompact, encryptCompact } from '../crypto/jwe-compact.js';
import { KeyRing } from '../keys/key-ring.js';
import { httpMessage } from '../protocol/http-message.js';
import { RequestVerifier } from '../protocol/request-verifier.js';
import { MemoryNonceStore } from '../replay/memory-nonce-store.js';
import { OutgoingRequestRefusedError } from './outgoing-request-refused.error.js';
import { openAnswer, prepareRequest } from './outgoing-request.js';
import { asHmacKey } from '../keys/key-ring.js';

const definition = { id: 'order-1', apiKey: `sk_${randomBytes(32).toString('base64url')}`, secret: randomBytes(32).toString('base64url') };
/** Both ends of one (order-service → inventory-service) pair: the caller's upstream, the callee's caller. */
const callerRing = KeyRing.from(
  { upstreams: [{ id: 'inventory-service', url: 'http://inventory:8082', keys: [definition] }] },
  'order-service',
);
const calleeRing = KeyRing.from({ callers: [{ id: 'order-service', keys: [definition] }] }, 'inventory-service');
const key = callerRing.upstream('inventory-service')!.keys[0];
const url = 'http://inventory:8082/api/inventory?x=1';

function verify(
  prepared: ReturnType<typeof prepareRequest>,
  method = 'POST',
  audience = 'inventory-service',
  ring = calleeRing,
  authority?: string,
) {
  const message = httpMessage({ method, target: '/api/inventory?x=1', authority, headers: prepared.headers });
  return new RequestVerifier(() => ring, new MemoryNonceStore(), { audience })
    .verify(message, prepared.body ?? Buffer.alloc(0))
    .then((verified) => verified.caller);
}

describe('prepareRequest', () => {
  it('serialises a JSON body once and signs exactly those bytes', async () => {
    const prepared = prepareRequest({ method: 'POST', url, headers: {}, data: { productId: 'P123', quantity: 2 } }, key, false);
    expect(prepared.body?.toString()).toBe('{"productId":"P123","quantity":2}');
    expect(prepared.headers['content-type']).toBe('application/json');
    await expect(verify(prepared)).resolves.toMatchObject({ id: 'order-service', keyId: 'order-1', nonce: prepared.nonce });
  });

  it('encrypts, then signs the ciphertext, and asks for an encrypted answer', async () => {
    const prepared = prepareRequest({ method: 'POST', url, headers: {}, data: { productId: 'P123', quantity: 2 } }, key, true);
    expect(prepared.headers['content-type']).toBe('application/jose');
    expect(prepared.headers['accept']).toBe('application/jose');
    const { plaintext, header } = decryptCompact(prepared.body!, () => asHmacKey(key).encryptionKey);
    expect(JSON.parse(plaintext.toString())).toEqual({ productId: 'P123', quantity: 2 });
    expect(header).toMatchObject({ kid: 'order-1', cty: 'application/json' });
    await expect(verify(prepared)).resolves.toMatchObject({ id: 'order-service' });
  });

  it("signs for the credential's audience: the callee accepts, a service holding the same key under another id refuses", async () => {
    const prepared = prepareRequest({ method: 'GET', url, headers: {}, data: undefined }, key, false);
    expect(prepared.headers['signature-input']).toContain(';tag="inventory-service"');
    await expect(verify(prepared, 'GET')).resolves.toMatchObject({ id: 'order-service' });
    const elsewhere = KeyRing.from({ callers: [{ id: 'order-service', keys: [definition] }] }, 'billing-service');
    await expect(verify(prepared, 'GET', 'billing-service', elsewhere)).rejects.toMatchObject({ reason: 'audience_mismatch' });
  });

  it('refuses a credential without an audience instead of signing a request any service would accept', () => {
    const { audience: _, ...withoutAudience } = key;
    expect(() => prepareRequest({ method: 'GET', url, headers: {}, data: undefined }, withoutAudience as typeof key, false)).toThrow(
      /audience/,
    );
    expect(() => prepareRequest({ method: 'GET', url, headers: {}, data: undefined }, { ...key, audience: '' }, false)).toThrow(/audience/);
  });

  it('gives every attempt a fresh nonce', () => {
    const a = prepareRequest({ method: 'GET', url, headers: {}, data: undefined }, key, false);
    const b = prepareRequest({ method: 'GET', url, headers: {}, data: undefined }, key, false);
    expect(a.nonce).not.toBe(b.nonce);
    expect(a.headers['signature']).not.toBe(b.headers['signature']);
  });
});

/** The components a prepared request's signature covers, in order. */
function coveredOf(prepared: ReturnType<typeof prepareRequest>): string[] {
  const list = /^sig1=\(([^)]*)\)/.exec(prepared.headers['signature-input'])?.[1] ?? '';
  return [...list.matchAll(/"([^"]+)"/g)].map((match) => match[1]);
}

/** `prepared` as it arrives after something in between changed its headers. */
function inTransit(prepared: ReturnType<typeof prepareRequest>, change: (headers: Record<string, string>) => void) {
  const headers = { ...prepared.headers };
  change(headers);
  return { ...prepared, headers };
}

describe('prepareRequest: what the signature covers', () => {
  it('covers every header the application set on the call, so a version header cannot be changed or stripped in transit', async () => {
    const headers = { 'x-api-version': '2', accept: 'application/vnd.shop.v2+json', 'x-tenant': 'acme' };
    const prepared = prepareRequest({ method: 'GET', url, headers, data: undefined }, key, false);
    expect(coveredOf(prepared)).toEqual(expect.arrayContaining(['x-api-version', 'accept', 'x-tenant']));
    await expect(verify(prepared, 'GET')).resolves.toMatchObject({ id: 'order-service' });

    const changed = inTransit(prepared, (h) => (h['x-api-version'] = '1'));
    await expect(verify(changed, 'GET')).rejects.toMatchObject({ reason: 'signature_invalid' });
    const stripped = inTransit(prepared, (h) => delete h['accept']);
    await expect(verify(stripped, 'GET')).rejects.toMatchObject({ reason: 'signature_invalid' });
  });

  it('covers accept whenever it asks for a sealed answer, a body or not: the request cannot be downgraded to a plaintext answer', async () => {
    const prepared = prepareRequest({ method: 'GET', url, headers: {}, data: undefined }, key, true);
    expect(prepared.headers['accept']).toBe('application/jose');
    expect(coveredOf(prepared)).toContain('accept');
    const stripped = inTransit(prepared, (h) => delete h['accept']);
    await expect(verify(stripped, 'GET')).rejects.toMatchObject({ reason: 'signature_invalid' });
    const replaced = inTransit(prepared, (h) => (h['accept'] = 'application/json'));
    await expect(verify(replaced, 'GET')).rejects.toMatchObject({ reason: 'signature_invalid' });
  });

  it('leaves out hop-by-hop and transport headers, which a proxy or the HTTP client itself may change, and those named by Connection', () => {
    const headers = {
      connection: 'keep-alive, x-hop',
      'keep-alive': 'timeout=5',
      'proxy-connection': 'keep-alive',
      te: 'trailers',
      trailer: 'x-checksum',
      'transfer-encoding': 'chunked',
      upgrade: 'h2c',
      'proxy-authorization': 'Basic cHJveHk6cHJveHk=',
      'content-length': '33',
      host: 'inventory:8082',
      'x-hop': 'for the next hop only',
      'x-api-version': '2',
    };
    const prepared = prepareRequest({ method: 'POST', url, headers, data: { productId: 'P123', quantity: 2 } }, key, false);
    expect(coveredOf(prepared)).toEqual(['@method', '@path', '@query', 'x-api-key', 'content-type', 'content-digest', 'x-api-version']);
  });

  it('covers none of the headers the signer sets itself twice (x-api-key, content-digest, signature, signature-input)', () => {
    const headers = { 'x-api-key': 'sk_other', signature: 'sig1=:AAAA:', 'signature-input': 'sig1=()', 'content-digest': 'sha-256=:AAAA:' };
    const prepared = prepareRequest({ method: 'POST', url, headers, data: { a: 1 } }, key, false);
    expect(coveredOf(prepared)).toEqual(['@method', '@path', '@query', 'x-api-key', 'content-type', 'content-digest']);
    expect(prepared.headers['x-api-key']).toBe(key.apiKey);
  });

  it('covers @authority only when asked: then a request sent to another host is refused', async () => {
    const plain = prepareRequest({ method: 'GET', url, headers: {}, data: undefined }, key, false);
    expect(coveredOf(plain)).not.toContain('@authority');

    const bound = prepareRequest({ method: 'GET', url, headers: {}, data: undefined }, key, false, { coverAuthority: true });
    expect(coveredOf(bound)).toContain('@authority');
    await expect(verify(bound, 'GET', 'inventory-service', calleeRing, 'inventory:8082')).resolves.toMatchObject({ id: 'order-service' });
    await expect(verify(bound, 'GET', 'inventory-service', calleeRing, 'admin.inventory:8082')).rejects.toMatchObject({
      reason: 'signature_invalid',
    });
  });

  it('refuses, before signing, a call with more headers than a verifier accepts as covered components', () => {
    const headers = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`x-h${i}`, String(i)]));
    const refusal = (() => {
      try {
        prepareRequest({ method: 'GET', url, headers, data: undefined }, key, false);
      } catch (error) {
        return error;
      }
    })();
    expect(refusal).toBeInstanceOf(OutgoingRequestRefusedError);
    expect(refusal).toMatchObject({ reason: 'request_config_unsafe', option: 'headers' });
  });
});

describe('openAnswer', () => {
  const resolve = (kid: string) => (kid === 'order-1' ? asHmacKey(key).encryptionKey : undefined);
  const sealed = (nonce: string, status: number | string | null = 200, plaintext = '{"ok":true}') =>
    encryptCompact(Buffer.from(plaintext), asHmacKey(key).encryptionKey, { kid: 'order-1', nonce, ...(status === null ? {} : { status }) });
  const jose = (status: number, data: unknown, method = 'POST') => ({ method, status, contentType: 'application/jose', data });

  it('opens an answer sealed for the nonce and the status it arrived with', () => {
    expect(openAnswer(jose(200, sealed('n-1')), resolve, 'n-1')).toEqual({ ok: true });
    expect(openAnswer(jose(202, sealed('n-1', 202)), resolve, 'n-1')).toEqual({ ok: true });
    expect(openAnswer(jose(200, sealed('n-1', 200, 'null')), resolve, 'n-1')).toBeNull();
  });

  it('refuses a sealed answer whose JSON has a __proto__ or constructor.prototype key: body_malformed', () => {
    for (const json of ['{"ok":true,"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"polluted":1}}}']) {
      expect(() => openAnswer(jose(200, sealed('n-1', 200, json)), resolve, 'n-1')).toThrow(
        expect.objectContaining({ reason: 'body_malformed' }),
      );
    }
  });

  it('refuses an answer made for another request', () => {
    expect(() => openAnswer(jose(200, sealed('n-2')), resolve, 'n-1')).toThrow(expect.objectContaining({ reason: 'decryption_failed' }));
  });

  it.each([
    ['another status', 202],
    ['no status', null],
    ['the status as a string', '200'],
  ])('refuses an answer sealed with %s', (_name, status) => {
    expect(() => openAnswer(jose(200, sealed('n-1', status)), resolve, 'n-1')).toThrow(
      expect.objectContaining({ reason: 'decryption_failed' }),
    );
  });

  it.each([
    ['a body', 200, 'application/json', { ok: true }],
    ['no body', 200, undefined, ''],
    ['no body and no data', 200, undefined, undefined],
    ['an empty JSON string', 200, 'application/json', ''],
    ['a 204', 204, undefined, ''],
    ['a 201 with no body', 201, undefined, ''],
  ])('refuses a plaintext 2xx answer with %s: encryption_required', (_name, status, contentType, data) => {
    expect(() => openAnswer({ method: 'POST', status, contentType, data }, resolve, 'n-1')).toThrow(
      expect.objectContaining({ reason: 'encryption_required' }),
    );
  });

  it('returns a plaintext refusal (not a 2xx, accepted by a custom validateStatus) as it came', () => {
    expect(openAnswer({ method: 'POST', status: 409, contentType: 'application/json', data: { reason: 'x' } }, resolve, 'n-1')).toEqual({
      reason: 'x',
    });
  });

  it('an answer to HEAD has no body to seal: returned as it came', () => {
    expect(openAnswer({ method: 'HEAD', status: 200, contentType: 'application/jose', data: '' }, resolve, 'n-1')).toBe('');
  });
});
