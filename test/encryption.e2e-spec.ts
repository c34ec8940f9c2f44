import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as jose from 'jose';
import { createServer, type Server } from 'node:http';
import { firstValueFrom } from 'rxjs';
import { SignedHttpService } from 'nest-service-auth/client';
import { decryptCompact, deriveKeys, encryptCompact } from 'nest-service-auth/core';
import { inventoryUpstreamEnv, newCredential, type TestCredential } from './support/credentials.js';
import { createOrderApp } from '../apps/order-service/src/order-app.js';
import { startServices, type RunningServices } from './support/demo-services.js';
import { rawRequest, reasonOf, signedHeaders, signingCredential } from './support/raw-http.js';
import { answerSignatureHeaders } from './support/signed-answer.js';

const ORDER = '{"productId":"P123","quantity":1}';

function encryptionKey(credential: TestCredential): Buffer {
  return deriveKeys(Buffer.from(credential.secret, 'base64url')).encryptionKey;
}

/** Signs (over the ciphertext) and sends an application/jose body to the inventory. */
async function sendJwe(s: RunningServices, jwe: string, as: TestCredential = s.orderKey, tamper?: (b: Buffer) => Buffer) {
  const body = Buffer.from(jwe, 'latin1');
  const headers = signedHeaders(s.inventoryUrl, signingCredential(as), {
    method: 'POST',
    path: '/api/inventory',
    body,
    contentType: 'application/jose',
  });
  return rawRequest(s.inventoryUrl, { method: 'POST', path: '/api/inventory', headers, body: tamper ? tamper(body) : body });
}

describe.each(['express', 'fastify'] as const)('confidential bodies (%s)', (adapter) => {
  let s: RunningServices;

  beforeAll(async () => {
    s = await startServices(adapter, { ENCRYPTION_POLICY: 'required' });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('order-service talks to the inventory encrypted end to end', async () => {
    const res = await fetch(`${s.orderUrl}/api/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: ORDER });
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/^Inventory updated for product P123\. New stock: \d+$/);
  });

  it('decrypts an encrypted order before validation and answers encrypted, bound to the request nonce', async () => {
    const key = encryptionKey(s.orderKey);
    const jwe = encryptCompact(Buffer.from(ORDER), key, { kid: s.orderKey.id });
    const body = Buffer.from(jwe, 'latin1');
    const headers = signedHeaders(s.inventoryUrl, signingCredential(s.orderKey), {
      method: 'POST',
      path: '/api/inventory',
      body,
      contentType: 'application/jose',
    });
    const nonce = /nonce="([^"]+)"/.exec(headers['signature-input'])![1];
    const res = await rawRequest(s.inventoryUrl, { method: 'POST', path: '/api/inventory', headers, body });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/jose/);
    expect(res.text).not.toContain('Inventory updated');
    const { plaintext, header } = decryptCompact(res.text, (kid) => (kid === s.orderKey.id ? key : undefined));
    expect(header).toMatchObject({ alg: 'dir', enc: 'A256GCM', kid: s.orderKey.id, nonce, status: 200 });
    expect((JSON.parse(plaintext.toString()) as { message: unknown }).message).toMatch(
      /^Inventory updated for product P123\. New stock: \d+$/,
    );
    // jose, an independent implementation, opens our answer too
    const opened = await jose.compactDecrypt(res.text, key);
    expect((JSON.parse(new TextDecoder().decode(opened.plaintext)) as { productId: unknown }).productId).toBe('P123');
  });

  it('opens what jose produces', async () => {
    const jwe = await new jose.CompactEncrypt(new TextEncoder().encode(ORDER))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: s.orderKey.id, cty: 'application/json' })
      .encrypt(encryptionKey(s.orderKey));
    expect((await sendJwe(s, jwe)).status).toBe(200);
  });

  it('refuses a plaintext order on the encrypted route: 415 encryption_required', async () => {
    const headers = signedHeaders(s.inventoryUrl, signingCredential(s.orderKey), { method: 'POST', path: '/api/inventory', body: ORDER });
    const res = await rawRequest(s.inventoryUrl, { method: 'POST', path: '/api/inventory', headers, body: ORDER });
    expect([res.status, reasonOf(res)]).toEqual([415, 'encryption_required']);
  });

  it('refuses a ciphertext changed after signing in the guard, before any decryption: 401 digest_mismatch', async () => {
    const jwe = encryptCompact(Buffer.from(ORDER), encryptionKey(s.orderKey), { kid: s.orderKey.id });
    const flip = (b: Buffer) => {
      const copy = Buffer.from(b);
      const i = copy.length - 30; // inside the ciphertext part
      copy[i] = copy[i] === 0x41 ? 0x42 : 0x41;
      return copy;
    };
    const res = await sendJwe(s, jwe, s.orderKey, flip);
    expect([res.status, reasonOf(res)]).toEqual([401, 'digest_mismatch']);
  });

  it('refuses a ciphertext that fails authentication: 400 decryption_failed', async () => {
    const jwe = encryptCompact(Buffer.from(ORDER), encryptionKey(s.auditKey), { kid: s.orderKey.id }); // right kid, wrong key
    const res = await sendJwe(s, jwe);
    expect([res.status, reasonOf(res)]).toEqual([400, 'decryption_failed']);
  });

  it('refuses malformed, unsupported and unknown-key JWEs with their reasons', async () => {
    expect(reasonOf(await sendJwe(s, 'not.a.jwe'))).toBe('jwe_malformed');
    const a128 = await new jose.CompactEncrypt(new TextEncoder().encode(ORDER))
      .setProtectedHeader({ alg: 'dir', enc: 'A128GCM', kid: s.orderKey.id })
      .encrypt(new Uint8Array(16).fill(7));
    const unsupported = await sendJwe(s, a128);
    expect([unsupported.status, reasonOf(unsupported)]).toEqual([400, 'jwe_unsupported']);
    const unknown = await sendJwe(s, encryptCompact(Buffer.from(ORDER), encryptionKey(s.orderKey), { kid: 'no-such-key' }));
    expect([unknown.status, reasonOf(unknown)]).toEqual([401, 'key_unknown']);
    // a key id of ANOTHER caller is unknown for this one
    const foreign = await sendJwe(s, encryptCompact(Buffer.from(ORDER), encryptionKey(s.auditKey), { kid: s.auditKey.id }));
    expect([foreign.status, reasonOf(foreign)]).toEqual([401, 'key_unknown']);
  });

  it('refuses decrypted bytes that are not JSON: 400 body_malformed', async () => {
    const res = await sendJwe(s, encryptCompact(Buffer.from('{"productId": '), encryptionKey(s.orderKey), { kid: s.orderKey.id }));
    expect([res.status, reasonOf(res)]).toEqual([400, 'body_malformed']);
    expect(res.text).not.toContain('productId');
  });

  it('validates the decrypted body as it would a plaintext one', async () => {
    const res = await sendJwe(
      s,
      encryptCompact(Buffer.from('{"productId":"P123","quantity":0}'), encryptionKey(s.orderKey), { kid: s.orderKey.id }),
    );
    expect([res.status, reasonOf(res)]).toEqual([400, 'validation_failed']);
  });
});

describe('the signing client refuses answers not made for its request', () => {
  let upstream: Server;
  let upstreamUrl: string;
  let answer: (nonce: string) => { contentType: string; body: string };
  const credential = newCredential('order-2026-11');

  beforeAll(async () => {
    upstream = createServer((req, res) => {
      const nonce = /nonce="([^"]+)"/.exec(String(req.headers['signature-input']))?.[1] ?? '';
      req.resume();
      req.on('end', () => {
        const { contentType, body } = answer(nonce);
        res
          .writeHead(200, { 'content-type': contentType, ...answerSignatureHeaders(req, credential, { status: 200, contentType, body }) })
          .end(body);
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => upstream.close(resolve));
  });

  async function callUpstream(): Promise<unknown> {
    const app = await createOrderApp({ logger: false, env: inventoryUpstreamEnv(upstreamUrl, credential) });
    try {
      const http = app.get(SignedHttpService);
      return (await firstValueFrom(http.post(`${upstreamUrl}/api/inventory`, { productId: 'P123', quantity: 1 }))).data;
    } finally {
      await app.close();
    }
  }

  it('accepts an answer that echoes its nonce and its status', async () => {
    answer = (nonce) => ({
      contentType: 'application/jose',
      body: encryptCompact(Buffer.from('{"ok":true}'), encryptionKey(credential), { kid: credential.id, nonce, status: 200 }),
    });
    await expect(callUpstream()).resolves.toEqual({ ok: true });
  });

  it('refuses a captured answer to another request (other nonce)', async () => {
    answer = () => ({
      contentType: 'application/jose',
      body: encryptCompact(Buffer.from('{"ok":true}'), encryptionKey(credential), {
        kid: credential.id,
        nonce: 'another-request-nonce-000',
        status: 200,
      }),
    });
    await expect(callUpstream()).rejects.toMatchObject({ reason: 'decryption_failed' });
  });

  it('refuses a plaintext answer from an upstream it encrypts for', async () => {
    answer = () => ({ contentType: 'application/json', body: '{"ok":true}' });
    await expect(callUpstream()).rejects.toMatchObject({ reason: 'encryption_required' });
  });
});
