/**
 * The wire format is plain RFC 9421: a generic implementation (the `http-message-signatures` package,
 * which knows nothing of this library) produces exactly our audience-bound signature from the
 * documented inputs, and our verifier accepts what it signs.
 */
import { describe, it, expect } from '@jest/globals';
import { createHmac } from 'node:crypto';
import { httpbis } from 'http-message-signatures';
import { deriveKeys } from '../keys/key-derivation.js';
import { KeyRing } from '../keys/key-ring.js';
import { MemoryNonceStore } from '../replay/memory-nonce-store.js';
import { createContentDigest } from './content-digest.js';
import { httpMessage } from './http-message.js';
import { RequestVerifier } from './request-verifier.js';
import { audienceBoundVector } from '../../../../test/support/protocol-vectors.js';

const vector = audienceBoundVector();
const hmacKey = deriveKeys(Buffer.from(vector.secretBase64, 'base64')).hmacKey;
const genericKey = {
  id: vector.keyId,
  alg: 'hmac-sha256',
  sign: async (data: Buffer) => createHmac('sha256', hmacKey).update(data).digest(),
};
const PARAMS = ['created', 'nonce', 'keyid', 'alg', 'tag'];

async function signGenerically(
  request: { method: string; url: string; headers: Record<string, string> },
  created: Date,
  nonce: string,
  tag: string,
) {
  return httpbis.signMessage(
    { key: genericKey, name: 'sig1', params: PARAMS, fields: vector.coveredComponents, paramValues: { created, nonce, tag } },
    request,
  );
}

function bodyRequest(url: string) {
  const body = Buffer.from(vector.request.body);
  const headers = { ...vector.request.headers, 'x-api-key': vector.apiKey, 'content-digest': createContentDigest(body) };
  return { request: { method: 'POST', url, headers }, body };
}

describe('a generic RFC 9421 library speaks the protocol', () => {
  it('reproduces the documented audience-bound vector byte for byte', async () => {
    const { request } = bodyRequest(vector.request.url);
    const signed = await signGenerically(request, new Date(vector.created * 1000), vector.nonce, vector.audience);
    expect(signed.headers['Signature-Input']).toBe(vector.headers['signature-input']);
    expect(signed.headers['Signature']).toBe(vector.headers.signature);
  });

  it('our verifier accepts a fresh request signed by it, and refuses it at another audience', async () => {
    const ring = KeyRing.from(
      { callers: [{ id: 'order-service', keys: [{ id: vector.keyId, apiKey: vector.apiKey, secret: vector.secretBase64 }] }] },
      'inventory-service',
    );
    const { request, body } = bodyRequest('http://127.0.0.1:8082/api/inventory');
    const signed = await signGenerically(request, new Date(), 'AAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'inventory-service');
    const headers = Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
    const message = httpMessage({ method: 'POST', target: '/api/inventory', headers });

    const here = new RequestVerifier(() => ring, new MemoryNonceStore(), { audience: 'inventory-service' });
    await expect(here.verify(message, body)).resolves.toMatchObject({ caller: { id: 'order-service', keyId: vector.keyId } });

    const elsewhere = new RequestVerifier(() => ring, new MemoryNonceStore(), { audience: 'billing-service' });
    await expect(elsewhere.verify(message, body)).rejects.toMatchObject({ reason: 'audience_mismatch' });
  });
});
