/**
 * Both kinds of credential, on both adapters, with the demo services: hmac-sha256 (a secret both ends
 * hold) and ed25519 (the caller's private key; inventory-service holds only its public key, and
 * answers with keys of its own). With inventory's default policy ('required'), orders travel
 * encrypted both ways: `dir` under the pair's key, or ECDH-ES (X25519) to inventory's encryption key
 * with the answer sealed to the request's ephemeral key. Requests built here by hand, and bodies made
 * and answers opened by `jose`, show the wire format; each refusal has its status and reason.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { compactDecrypt, CompactEncrypt } from 'jose';
import {
  deriveKeys,
  encryptCompact,
  encryptEcdhEs,
  generateEd25519KeyText,
  JWE_MEDIA_TYPE,
  openEcdhEsResponse,
  openResponse,
  signRequest,
  type SigningCredential,
} from 'nest-service-auth/core';
import { createInventoryApp } from '../apps/inventory-service/src/inventory-app.js';
import { createOrderApp } from '../apps/order-service/src/order-app.js';
import { pairKeys, type CredentialAlgorithm, type PairKeys } from './support/credentials.js';
import { listenUrl, type Adapter } from './support/demo-services.js';
import { rawRequest, reasonOf, type RawResponse } from './support/raw-http.js';

const MATRIX: [Adapter, CredentialAlgorithm][] = [
  ['express', 'hmac-sha256'],
  ['fastify', 'hmac-sha256'],
  ['express', 'ed25519'],
  ['fastify', 'ed25519'],
];

/** The signing credential of the pair, as the caller holds it. */
function signingCredential(pair: PairKeys, privateKeyText = pair.credential.secret): SigningCredential {
  const { id, apiKey, secret } = pair.credential;
  if (pair.algorithm === 'hmac-sha256')
    return { id, apiKey, audience: 'inventory-service', hmacKey: deriveKeys(Buffer.from(secret, 'base64url')).hmacKey };
  const privateKey = createPrivateKey({ key: Buffer.from(privateKeyText, 'base64url'), format: 'der', type: 'pkcs8' });
  return { id, apiKey, audience: 'inventory-service', algorithm: 'ed25519', privateKey };
}

interface Sealed {
  body: Buffer;
  /** Opens the sealed answer to this request (checking it answers this nonce and status). */
  open(text: string, status: number, nonce: string): string;
}

/** The order, sealed as SignedHttpService seals it: dir under the pair's key, or ECDH-ES to inventory's X25519 key. */
function sealOrder(pair: PairKeys, plaintext: string): Sealed {
  if (pair.algorithm === 'hmac-sha256') {
    const key = deriveKeys(Buffer.from(pair.credential.secret, 'base64url')).encryptionKey;
    const jwe = encryptCompact(Buffer.from(plaintext), key, { kid: pair.credential.id });
    return {
      body: Buffer.from(jwe, 'latin1'),
      open: (text, status, nonce) =>
        openResponse(text, (kid) => (kid === pair.credential.id ? key : undefined), { nonce, status }).toString(),
    };
  }
  const recipient = createPublicKey({ key: Buffer.from(pair.encryptionKey!.publicKey, 'base64url'), format: 'der', type: 'spki' });
  const sealed = encryptEcdhEs(Buffer.from(plaintext), recipient, { kid: pair.encryptionKey!.id });
  return {
    body: Buffer.from(sealed.jwe, 'latin1'),
    open: (text, status, nonce) => openEcdhEsResponse(text, sealed.ephemeralPrivateKey, { nonce, status }).toString(),
  };
}

describe.each(MATRIX)('credential algorithms end to end (%s, %s)', (adapter, algorithm) => {
  let inventory: INestApplication;
  let order: INestApplication;
  let inventoryUrl: string;
  let orderUrl: string;
  let pair: PairKeys;

  beforeAll(async () => {
    pair = pairKeys(algorithm, 'http://127.0.0.1:1');
    // inventory's default encryption policy: every order body and every answer is sealed.
    inventory = await createInventoryApp({ adapter, logger: false, env: { ...pair.inventory, INVENTORY_STOCK_STORE: 'memory' } });
    inventoryUrl = await listenUrl(inventory);
    order = await createOrderApp({
      adapter,
      logger: false,
      env: { ...pair.order, SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_URL: inventoryUrl },
    });
    orderUrl = await listenUrl(order);
  });

  afterAll(async () => {
    await order?.close();
    await inventory?.close();
  });

  /** A signed POST /api/inventory with `body` (already sealed, or plaintext JSON), as sent on the wire. */
  function signedPost(body: Buffer, options: { contentType?: string; credential?: SigningCredential; nonce?: string } = {}) {
    const nonce = options.nonce ?? randomBytes(16).toString('base64url');
    const headers: Record<string, string> = { 'content-type': options.contentType ?? JWE_MEDIA_TYPE, accept: JWE_MEDIA_TYPE };
    const url = `${inventoryUrl}/api/inventory`;
    Object.assign(headers, signRequest({ method: 'POST', url, headers, body }, options.credential ?? signingCredential(pair), { nonce }));
    return {
      nonce,
      send: (sent: Buffer = body): Promise<RawResponse> =>
        rawRequest(inventoryUrl, { method: 'POST', path: '/api/inventory', headers, body: sent }),
    };
  }

  it('order-service → inventory-service: the order and its answer travel sealed and signed', async () => {
    const res = await fetch(`${orderUrl}/api/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ productId: 'P123', quantity: 2 }),
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('Inventory updated for product P123. New stock: 98');
  });

  it('a request sealed and signed by hand is accepted; its answer is a JWE of the same suite, bound to it and signed', async () => {
    const sealed = sealOrder(pair, JSON.stringify({ productId: 'P123', quantity: 1 }));
    const request = signedPost(sealed.body);
    const res = await request.send();
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/jose/);
    const header = JSON.parse(Buffer.from(res.text.split('.')[0], 'base64url').toString()) as Record<string, unknown>;
    expect(header).toMatchObject({ alg: algorithm === 'ed25519' ? 'ECDH-ES' : 'dir', enc: 'A256GCM', nonce: request.nonce, status: 200 });
    expect(JSON.parse(sealed.open(res.text, 200, request.nonce))).toEqual({ message: expect.any(String), productId: 'P123', newStock: 97 });
    expect(res.headers['signature-input']).toMatch(new RegExp(`alg="${algorithm}"`));

    // The same bytes again: a replay.
    const replay = await request.send();
    expect({ status: replay.status, reason: reasonOf(replay) }).toEqual({ status: 401, reason: 'nonce_replayed' });
  });

  it('a body changed in transit is refused (401 digest_mismatch); so is a signature by another key (401 signature_invalid)', async () => {
    const genuine = signedPost(sealOrder(pair, JSON.stringify({ productId: 'P123', quantity: 1 })).body);
    const swapped = sealOrder(pair, JSON.stringify({ productId: 'P123', quantity: 90 })).body;
    const tampered = await genuine.send(swapped);
    expect({ status: tampered.status, reason: reasonOf(tampered) }).toEqual({ status: 401, reason: 'digest_mismatch' });

    const otherKey =
      pair.algorithm === 'ed25519'
        ? signingCredential(pair, generateEd25519KeyText().privateKey)
        : { ...signingCredential(pair), hmacKey: randomBytes(32) };
    const forged = await signedPost(sealOrder(pair, '{"productId":"P123","quantity":1}').body, { credential: otherKey }).send();
    expect({ status: forged.status, reason: reasonOf(forged) }).toEqual({ status: 401, reason: 'signature_invalid' });
  });

  it('jose seals the body and opens the sealed answer, as a caller in another language would', async () => {
    const order = new TextEncoder().encode(JSON.stringify({ productId: 'P456', quantity: 1 }));
    let jwe: string;
    if (pair.algorithm === 'ed25519') {
      const recipient = createPublicKey({ key: Buffer.from(pair.encryptionKey!.publicKey, 'base64url'), format: 'der', type: 'spki' });
      jwe = await new CompactEncrypt(order)
        .setProtectedHeader({ alg: 'ECDH-ES', enc: 'A256GCM', kid: pair.encryptionKey!.id, cty: 'application/json' })
        .encrypt(recipient);
    } else {
      const key = deriveKeys(Buffer.from(pair.credential.secret, 'base64url')).encryptionKey;
      jwe = await new CompactEncrypt(order).setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: pair.credential.id }).encrypt(key);
    }
    const res = await signedPost(Buffer.from(jwe)).send();
    expect(res.status).toBe(200);
    if (pair.algorithm === 'ed25519') {
      // The answer is sealed to jose's ephemeral key (the request's epk): without it, nobody opens it.
      // jose keeps that key to itself, so the test shows the answer is ECDH-ES to exactly that epk.
      const requestEpk = (JSON.parse(Buffer.from(jwe.split('.')[0], 'base64url').toString()) as { epk: unknown }).epk;
      const answerHeader = JSON.parse(Buffer.from(res.text.split('.')[0], 'base64url').toString()) as { epk: unknown; alg: string };
      expect(answerHeader.alg).toBe('ECDH-ES');
      expect(answerHeader.epk).not.toEqual(requestEpk);
    } else {
      const key = deriveKeys(Buffer.from(pair.credential.secret, 'base64url')).encryptionKey;
      const { plaintext } = await compactDecrypt(res.text, key);
      expect(JSON.parse(Buffer.from(plaintext).toString())).toMatchObject({ productId: 'P456', newStock: 49 });
    }
  });

  if (algorithm === 'ed25519') {
    it('jose opens the sealed answer with the ephemeral key of the request it sealed', async () => {
      const sealed = encryptEcdhEs(
        Buffer.from(JSON.stringify({ productId: 'P456', quantity: 1 })),
        createPublicKey({ key: Buffer.from(pair.encryptionKey!.publicKey, 'base64url'), format: 'der', type: 'spki' }),
        { kid: pair.encryptionKey!.id },
      );
      const res = await signedPost(Buffer.from(sealed.jwe, 'latin1')).send();
      expect(res.status).toBe(200);
      const { plaintext, protectedHeader } = await compactDecrypt(res.text, sealed.ephemeralPrivateKey);
      expect(protectedHeader).toMatchObject({ alg: 'ECDH-ES', enc: 'A256GCM', status: 200 });
      expect(JSON.parse(Buffer.from(plaintext).toString())).toMatchObject({ productId: 'P456', newStock: 48 });
    });

    it('a body encrypted to an unknown key id: 401 key_unknown; a dir body from an ed25519 caller: 400 jwe_unsupported', async () => {
      const recipient = createPublicKey({ key: Buffer.from(pair.encryptionKey!.publicKey, 'base64url'), format: 'der', type: 'spki' });
      const unknown = encryptEcdhEs(Buffer.from('{"productId":"P123","quantity":1}'), recipient, { kid: 'inventory-x25519-9' });
      const res = await signedPost(Buffer.from(unknown.jwe, 'latin1')).send();
      expect({ status: res.status, reason: reasonOf(res) }).toEqual({ status: 401, reason: 'key_unknown' });
      const dir = encryptCompact(Buffer.from('{"productId":"P123","quantity":1}'), randomBytes(32), { kid: pair.credential.id });
      const wrongSuite = await signedPost(Buffer.from(dir, 'latin1')).send();
      expect({ status: wrongSuite.status, reason: reasonOf(wrongSuite) }).toEqual({ status: 400, reason: 'jwe_unsupported' });
    });

    it('a request without a body cannot have its answer sealed (no ephemeral key to seal it to): 400 jwe_unsupported', async () => {
      const headers: Record<string, string> = { accept: JWE_MEDIA_TYPE };
      Object.assign(headers, signRequest({ method: 'GET', url: `${inventoryUrl}/api/inventory/P123`, headers }, signingCredential(pair)));
      const res = await rawRequest(inventoryUrl, { method: 'GET', path: '/api/inventory/P123', headers });
      expect({ status: res.status, reason: reasonOf(res) }).toEqual({ status: 400, reason: 'jwe_unsupported' });
    });
  }
});
