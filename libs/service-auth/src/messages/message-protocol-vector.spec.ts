import { describe, expect, it } from '@jest/globals';
import { createHash, createHmac } from 'node:crypto';
import { KeyRing } from '../keys/key-ring.js';
import { signMessage } from './message-signer.js';

/** PROTOCOL.md "Signed messages", the worked example: every value below is printed there. */
const VECTOR = {
  secret: 'MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY',
  apiKey: 'sk_example_order_to_inventory_0123456789abcdef',
  keyId: 'order-2026-11',
  caller: 'order-service',
  audience: 'inventory-service',
  created: 1767225600,
  nonce: 'bWVzc2FnZS1ub25jZS0wMDE',
  pattern: 'inventory.update',
  data: { productId: 'p-1', quantity: 3 },
};

const SIGNATURE_PARAMS =
  '("@method" "@path" "@query" "x-api-key" "content-type" "content-digest");created=1767225600;nonce="bWVzc2FnZS1ub25jZS0wMDE";keyid="order-2026-11";alg="hmac-sha256";tag="inventory-service"';

const EXPECTED_BASE = [
  '"@method": SEND',
  '"@path": /inventory.update',
  '"@query": ?',
  '"x-api-key": sk_example_order_to_inventory_0123456789abcdef',
  '"content-type": application/json',
  '"content-digest": sha-256=:KeW/dAiLMP7eZpweVLHCGn4l/pkC4r/FEDQ93wOWZIg=:',
  `"@signature-params": ${SIGNATURE_PARAMS}`,
].join('\n');

const EXPECTED_ENVELOPE = {
  serviceAuth: {
    'content-type': 'application/json',
    'x-api-key': 'sk_example_order_to_inventory_0123456789abcdef',
    'content-digest': 'sha-256=:KeW/dAiLMP7eZpweVLHCGn4l/pkC4r/FEDQ93wOWZIg=:',
    'signature-input': `sig1=${SIGNATURE_PARAMS}`,
    signature: 'sig1=:IDzcj9UW60gamciO4C3ZV6y+YdEhn73D+pn5XndNlDk=:',
  },
  payload: '{"productId":"p-1","quantity":3}',
};

describe('the signed message vector of PROTOCOL.md', () => {
  it('reproduces the envelope byte for byte', () => {
    const ring = KeyRing.from(
      {
        upstreams: [
          {
            id: VECTOR.audience,
            url: 'http://inventory.invalid',
            keys: [{ id: VECTOR.keyId, apiKey: VECTOR.apiKey, secret: VECTOR.secret }],
          },
        ],
      },
      VECTOR.caller,
    );
    const key = ring.upstream(VECTOR.audience)!.keys[0];
    const { envelope } = signMessage({ kind: 'SEND', pattern: VECTOR.pattern, data: VECTOR.data }, key, {
      created: VECTOR.created,
      nonce: VECTOR.nonce,
    });
    expect(envelope).toEqual(EXPECTED_ENVELOPE);
  });

  it('is an HMAC-SHA256, under the HKDF-derived signing key, of the signature base printed in PROTOCOL.md', () => {
    const key = KeyRing.from(
      { callers: [{ id: VECTOR.caller, keys: [{ id: VECTOR.keyId, apiKey: VECTOR.apiKey, secret: VECTOR.secret }] }] },
      VECTOR.audience,
    ).findCallerKey(VECTOR.caller, VECTOR.keyId)!;
    const mac = createHmac('sha256', key.hmacKey).update(EXPECTED_BASE, 'utf8').digest('base64');
    expect(EXPECTED_ENVELOPE.serviceAuth.signature).toBe(`sig1=:${mac}:`);
    expect(createHash('sha256').update(EXPECTED_ENVELOPE.payload).digest('base64')).toBe('KeW/dAiLMP7eZpweVLHCGn4l/pkC4r/FEDQ93wOWZIg=');
  });
});
