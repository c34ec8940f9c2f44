/**
 * PROTOCOL.md §2 promises that a verifier accepts any signature label, any order of the covered
 * components and any order of the signature parameters: the signature base follows Signature-Input
 * as received. Callers written in other languages rely on it, since their RFC 9421 libraries choose
 * labels and orders of their own.
 */
import { describe, expect, it } from '@jest/globals';
import { KeyRing } from '../keys/key-ring.js';
import { MemoryNonceStore } from '../replay/memory-nonce-store.js';
import { createContentDigest } from './content-digest.js';
import { hmacSha256 } from './hmac-sha256.js';
import { httpMessage } from './http-message.js';
import { RequestVerifier } from './request-verifier.js';
import { ServiceAuthError } from '../errors/service-auth.error.js';
import { buildSignatureBase } from './signature-base.js';
import { asHmacKey } from '../keys/key-ring.js';

const NOW_S = 1_764_100_000;
const ring = KeyRing.from({
  callers: [
    { id: 'order-service', keys: [{ id: 'order-k1', apiKey: `sk_${'k'.repeat(43)}`, secret: Buffer.alloc(32, 1).toString('base64url') }] },
  ],
});
const key = ring.findCallerKey('order-service', 'order-k1')!;
const body = Buffer.from('{"productId":"P123","quantity":2}');

/** Components listed back to front, parameters in the reverse of the library's order, label "req-b". */
const COMPONENTS = ['idempotency-key', 'content-digest', 'content-type', 'x-api-key', '@query', '@path', '@method'];
const PARAMS = `tag="inventory-service";alg="hmac-sha256";keyid="order-k1";nonce="${'n'.repeat(22)}";created=${NOW_S}`;

function request(listedComponents: string[]) {
  const headers: Record<string, string> = {
    'x-api-key': key.apiKey,
    'content-type': 'application/json',
    'content-digest': createContentDigest(body),
    'idempotency-key': 'order-7',
  };
  const inner = (components: string[]) => `(${components.map((c) => `"${c}"`).join(' ')});${PARAMS}`;
  const signed = hmacSha256(
    asHmacKey(key).hmacKey,
    buildSignatureBase(httpMessage({ method: 'POST', target: '/api/inventory', headers }), COMPONENTS, inner(COMPONENTS)),
  );
  headers['signature-input'] = `req-b=${inner(listedComponents)}`;
  headers['signature'] = `req-b=:${signed.toString('base64')}:`;
  return httpMessage({ method: 'POST', target: '/api/inventory', headers });
}

const verifier = () =>
  new RequestVerifier(() => ring, new MemoryNonceStore({ now: () => NOW_S * 1000 }), {
    audience: 'inventory-service',
    now: () => NOW_S * 1000,
  });

describe('RequestVerifier: any label, any order', () => {
  it('accepts a signature labelled req-b, components back to front, parameters in reverse order', async () => {
    await expect(verifier().verify(request(COMPONENTS), body)).resolves.toMatchObject({
      caller: { id: 'order-service', keyId: 'order-k1' },
    });
  });

  it('control: the order is part of what is signed, so re-ordering the components after signing is signature_invalid', async () => {
    const refusal = await verifier()
      .verify(request([...COMPONENTS].reverse()), body)
      .catch((err: unknown) => err);
    expect(refusal).toBeInstanceOf(ServiceAuthError);
    expect((refusal as ServiceAuthError).reason).toBe('signature_invalid');
  });
});
