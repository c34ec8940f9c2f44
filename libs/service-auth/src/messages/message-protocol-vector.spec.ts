import { describe, expect, it } from '@jest/globals';
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { asHmacKey, KeyRing } from '../keys/key-ring.js';
import { signMessage } from './message-signer.js';
import { openSignedAnswer, signAnswer } from './signed-answer.js';

const protocolDoc = readFileSync(fileURLToPath(new URL('../../PROTOCOL.md', import.meta.url)), 'utf8');

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

const HMAC_KEY_HEX = 'afbd9a9ac19d90abd5e5eb98a46add2a7f9da051ebe7b3dad752181f5763c7dd';

/** The answer of the worked example: `{"productId":"p-1","stock":7}` signed one second later. */
const ANSWER = { value: { productId: 'p-1', stock: 7 }, created: 1767225601 };
const EXPECTED_ANSWER_BASE = [
  '"content-digest": sha-256=:azw/NcyXt7/llFoz2v0xcHD/KgeT2no/3XoENSfsN6U=:',
  '"@signature-params": ("content-digest");created=1767225601;nonce="bWVzc2FnZS1ub25jZS0wMDE";keyid="order-2026-11";alg="hmac-sha256";tag="order-service"',
].join('\n');
const EXPECTED_ANSWER_SIGNATURE = 'answer=:yhBDhHW14UqlVL5wym6g9AFPhwnGukDQQb2UqUvp9s8=:';

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

function callerKey() {
  return asHmacKey(
    KeyRing.from(
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
    ).upstream(VECTOR.audience)!.keys[0],
  );
}

describe('the signed message vector of PROTOCOL.md', () => {
  it('reproduces the envelope byte for byte', () => {
    expect(Buffer.from(callerKey().hmacKey).toString('hex')).toBe(HMAC_KEY_HEX);
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
    const key = asHmacKey(ring.upstream(VECTOR.audience)!.keys[0]);
    const { envelope } = signMessage({ kind: 'SEND', pattern: VECTOR.pattern, data: VECTOR.data }, key, {
      created: VECTOR.created,
      nonce: VECTOR.nonce,
    });
    expect(envelope).toEqual(EXPECTED_ENVELOPE);
  });

  it('is an HMAC-SHA256, under the HKDF-derived signing key, of the signature base printed in PROTOCOL.md', () => {
    const key = asHmacKey(
      KeyRing.from(
        { callers: [{ id: VECTOR.caller, keys: [{ id: VECTOR.keyId, apiKey: VECTOR.apiKey, secret: VECTOR.secret }] }] },
        VECTOR.audience,
      ).findCallerKey(VECTOR.caller, VECTOR.keyId),
    );
    const mac = createHmac('sha256', key.hmacKey).update(EXPECTED_BASE, 'utf8').digest('base64');
    expect(EXPECTED_ENVELOPE.serviceAuth.signature).toBe(`sig1=:${mac}:`);
    expect(createHash('sha256').update(EXPECTED_ENVELOPE.payload).digest('base64')).toBe('KeW/dAiLMP7eZpweVLHCGn4l/pkC4r/FEDQ93wOWZIg=');
  });

  it("reproduces the answer's signature base and signature, and the caller opens it", () => {
    const key = callerKey();
    const binding = { nonce: VECTOR.nonce, callerId: VECTOR.caller };
    const answer = signAnswer(ANSWER.value, key, binding, ANSWER.created);
    expect(answer.serviceAuthAnswer.signature).toBe(EXPECTED_ANSWER_SIGNATURE);
    const mac = createHmac('sha256', key.hmacKey).update(EXPECTED_ANSWER_BASE, 'utf8').digest('base64');
    expect(EXPECTED_ANSWER_SIGNATURE).toBe(`answer=:${mac}:`);
    expect(openSignedAnswer(answer, { ...binding, upstream: VECTOR.audience }, () => key)).toEqual(ANSWER.value);
  });

  it('PROTOCOL.md prints the same base, key, envelope and answer', () => {
    expect(protocolDoc).toContain('```\n' + EXPECTED_BASE + '\n```');
    expect(protocolDoc).toContain(HMAC_KEY_HEX);
    expect(protocolDoc).toContain('```json\n' + JSON.stringify(EXPECTED_ENVELOPE, null, 2) + '\n```');
    expect(protocolDoc).toContain('```\n' + EXPECTED_ANSWER_BASE + '\n```');
    expect(protocolDoc).toContain(EXPECTED_ANSWER_SIGNATURE);
  });
});
