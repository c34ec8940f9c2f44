/**
 * Whether an answer is sealed is decided from signed inputs only, so nobody on the way can turn a
 * sealed answer into a plaintext one:
 * - `Accept: application/jose` asks for a sealed answer only when the signature covers it (the signer
 *   covers it whenever it asks); stripped in transit, the signature no longer matches; sent uncovered,
 *   the request is refused rather than answered in a way its signer did not ask for.
 * - on a route whose policy is `required`, every successful answer to a verified caller is sealed,
 *   whatever `Accept` says, a body-less GET included.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { EncryptedBody, ServiceAuthModule, TrustedCaller } from 'nest-service-auth';
import { deriveKeys, JWE_MEDIA_TYPE, openResponse } from 'nest-service-auth/core';
import { newCredential } from './support/credentials.js';
import { listenUrl } from './support/demo-services.js';
import { rawRequest, reasonOf, signedHeaders, signedHeadersForTarget, signingCredential } from './support/raw-http.js';

const caller = newCredential('order-1');
const { encryptionKey } = deriveKeys(Buffer.from(caller.secret, 'base64url'));
const signing = signingCredential(caller, { audience: 'ledger-service' });
const BALANCE = { account: 'A-1', balance: 1200 };

@Controller()
class BalanceController {
  @Get('balance')
  @TrustedCaller('order-service')
  balance() {
    return BALANCE;
  }

  @Get('secret-balance')
  @TrustedCaller('order-service')
  @EncryptedBody('required')
  secretBalance() {
    return BALANCE;
  }
}

@Module({
  imports: [ServiceAuthModule.forRoot({ serviceId: 'ledger-service', keys: { callers: [{ id: 'order-service', keys: [caller] }] } })],
  controllers: [BalanceController],
})
class LedgerModule {}

const nonceOf = (headers: Record<string, string>): string => /nonce="([^"]+)"/.exec(headers['signature-input'])![1];

describe.each(['express', 'fastify'] as const)('sealed answers cannot be downgraded (%s)', (adapter) => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    app = await NestFactory.create(LedgerModule, adapter === 'fastify' ? new FastifyAdapter() : new ExpressAdapter(), {
      rawBody: true,
      logger: false,
    });
    url = await listenUrl(app);
  });
  afterAll(async () => {
    await app?.close();
  });

  const opened = (res: { text: string; status: number }, nonce: string): unknown =>
    JSON.parse(
      openResponse(res.text, (kid) => (kid === caller.id ? encryptionKey : undefined), { nonce, status: res.status }).toString('utf8'),
    );

  it('covers Accept when it asks for a sealed answer, and seals the answer', async () => {
    const headers = signedHeaders(url, signing, { method: 'GET', path: '/balance', headers: { accept: JWE_MEDIA_TYPE } });
    expect(headers['signature-input']).toContain('"accept"');
    const res = await rawRequest(url, { method: 'GET', path: '/balance', headers });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/jose/);
    expect(opened(res, nonceOf(headers))).toEqual(BALANCE);
  });

  it('refuses a request whose Accept was stripped in transit, instead of answering it in plaintext', async () => {
    const { accept: _stripped, ...headers } = signedHeaders(url, signing, {
      method: 'GET',
      path: '/balance',
      headers: { accept: JWE_MEDIA_TYPE },
    });
    const res = await rawRequest(url, { method: 'GET', path: '/balance', headers });
    expect(res.status).toBe(401);
    expect(reasonOf(res)).toBe('signature_invalid');
    expect(res.text).not.toContain('1200');
  });

  it('refuses an Accept: application/jose that the signature does not cover', async () => {
    const headers = signedHeadersForTarget(signing, { method: 'GET', target: '/balance', headers: { accept: JWE_MEDIA_TYPE } });
    expect(headers['signature-input']).not.toContain('"accept"');
    const res = await rawRequest(url, { method: 'GET', path: '/balance', headers });
    expect(res.status).toBe(401);
    expect(reasonOf(res)).toBe('signature_incomplete');
  });

  it('answers a request that asks for nothing sealed in plaintext on an optional route', async () => {
    const res = await rawRequest(url, {
      method: 'GET',
      path: '/balance',
      headers: signedHeaders(url, signing, { method: 'GET', path: '/balance' }),
    });
    expect(res.status).toBe(200);
    expect(res.json).toEqual(BALANCE);
  });

  it('seals every successful answer on a route that requires encryption, whatever Accept says', async () => {
    for (const accept of [undefined, 'application/json', '*/*']) {
      const headers = signedHeaders(url, signing, { method: 'GET', path: '/secret-balance', headers: accept ? { accept } : {} });
      const res = await rawRequest(url, { method: 'GET', path: '/secret-balance', headers });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/jose/);
      expect(res.text).not.toContain('1200');
      expect(opened(res, nonceOf(headers))).toEqual(BALANCE);
    }
  });
});
