/**
 * The encrypted exchange behaves the same however ServiceAuthGuard is installed. Installed globally
 * (the default) the guard runs it and the module installs no interceptor; with `guard: 'manual'` the
 * application installs the guard and EncryptedExchangeInterceptor runs it. Both adapters, both ways:
 * encrypted bodies opened, every successful answer sealed (bound to its nonce and status) when the
 * request was encrypted or asked for it, plaintext answers otherwise, error answers never sealed, and
 * the same refusals.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
  Module,
  Post,
  type DynamicModule,
  type INestApplication,
} from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { EncryptedBody, PublicRoute, ServiceAuthGuard, ServiceAuthModule, TrustedCaller } from 'nest-service-auth';
import { deriveKeys, encryptCompact, JWE_MEDIA_TYPE, openResponse } from 'nest-service-auth/core';
import { newCredential } from './support/credentials.js';
import { listenUrl } from './support/demo-services.js';
import { rawRequest, signedHeaders, signingCredential } from './support/raw-http.js';

const caller = newCredential('order-1');
const { encryptionKey } = deriveKeys(Buffer.from(caller.secret, 'base64url'));
const signing = signingCredential(caller, { audience: 'ledger-service' });
const ORDER = { productId: 'P1', quantity: 2 };

@Controller()
class LedgerController {
  @Post('echo')
  @HttpCode(200)
  @TrustedCaller('order-service')
  echo(@Body() body: unknown) {
    return { received: body };
  }

  @Post('sealed')
  @HttpCode(200)
  @TrustedCaller('order-service')
  @EncryptedBody()
  sealed(@Body() body: unknown) {
    return { received: body };
  }

  @Post('fails')
  @TrustedCaller('order-service')
  fails() {
    throw new BadRequestException({
      statusCode: 400,
      error: 'Bad Request',
      reason: 'validation_failed',
      message: ['quantity is too large'],
    });
  }

  @Get('nothing')
  @TrustedCaller('order-service')
  nothing() {
    return undefined;
  }

  @Post('open')
  @HttpCode(200)
  @PublicRoute()
  open() {
    return { open: true };
  }
}

async function startLedger(adapter: 'express' | 'fastify', installation: 'global' | 'manual'): Promise<INestApplication> {
  @Module({})
  class LedgerModule {
    static forRoot(): DynamicModule {
      return {
        module: LedgerModule,
        imports: [
          ServiceAuthModule.forRoot({
            serviceId: 'ledger-service',
            guard: installation,
            keys: { callers: [{ id: 'order-service', keys: [caller] }] },
          }),
        ],
        controllers: [LedgerController],
        providers: installation === 'manual' ? [{ provide: APP_GUARD, useExisting: ServiceAuthGuard }] : [],
      };
    }
  }
  const app = await NestFactory.create(LedgerModule.forRoot(), adapter === 'fastify' ? new FastifyAdapter() : new ExpressAdapter(), {
    rawBody: true,
    logger: false,
    abortOnError: false,
  });
  ServiceAuthModule.setup(app);
  return app;
}

describe.each([
  ['express', 'global'],
  ['express', 'manual'],
  ['fastify', 'global'],
  ['fastify', 'manual'],
] as const)('encrypted exchanges (%s, guard installed %s)', (adapter, installation) => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    app = await startLedger(adapter, installation);
    url = await listenUrl(app);
  });
  afterAll(async () => {
    await app?.close();
  });

  /** Signs and sends; `encrypt` sends the JSON as a JWE; `accept` asks for an encrypted answer. */
  async function send(
    path: string,
    {
      encrypt = false,
      accept,
      body = Buffer.from(JSON.stringify(ORDER)),
      method = 'POST',
    }: { encrypt?: boolean; accept?: string; body?: Buffer; method?: string } = {},
  ) {
    const payload =
      method === 'GET'
        ? undefined
        : encrypt
          ? Buffer.from(encryptCompact(body, encryptionKey, { kid: caller.id, cty: 'application/json' }), 'latin1')
          : body;
    const headers = signedHeaders(url, signing, {
      method,
      path,
      body: payload,
      contentType: encrypt ? JWE_MEDIA_TYPE : 'application/json',
      headers: accept ? { accept } : {},
    });
    const nonce = /nonce="([^"]+)"/.exec(headers['signature-input'])![1];
    const res = await rawRequest(url, { method, path, headers, body: payload });
    return { res, nonce };
  }

  const opened = (res: { text: string; status: number }, nonce: string): unknown =>
    JSON.parse(
      openResponse(res.text, (kid) => (kid === caller.id ? encryptionKey : undefined), { nonce, status: res.status }).toString('utf8'),
    );

  it('opens an encrypted body for the handler and seals the answer, bound to the request nonce', async () => {
    const { res, nonce } = await send('/echo', { encrypt: true });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/jose/);
    expect(opened(res, nonce)).toEqual({ received: ORDER });
  });

  it('seals the answer to a plaintext request that asks for it (Accept: application/jose)', async () => {
    const { res, nonce } = await send('/echo', { accept: JWE_MEDIA_TYPE });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/jose/);
    expect(opened(res, nonce)).toEqual({ received: ORDER });
  });

  it('answers a plaintext request in plaintext', async () => {
    const { res } = await send('/echo');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json).toEqual({ received: ORDER });
  });

  it('never seals an error answer, even to an encrypted request', async () => {
    const { res } = await send('/fails', { encrypt: true });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json).toMatchObject({ reason: 'validation_failed', message: ['quantity is too large'] });
  });

  it('seals an empty answer too, as JSON null', async () => {
    const { res, nonce } = await send('/nothing', { method: 'GET', accept: JWE_MEDIA_TYPE });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/jose/);
    expect(opened(res, nonce)).toBeNull();
  });

  it('refuses a plaintext body on a route that requires encryption: 415 encryption_required', async () => {
    const { res } = await send('/sealed');
    expect(res.status).toBe(415);
    expect(res.json).toMatchObject({ reason: 'encryption_required' });
    const encrypted = await send('/sealed', { encrypt: true });
    expect(encrypted.res.status).toBe(200);
    expect(opened(encrypted.res, encrypted.nonce)).toEqual({ received: ORDER });
  });

  it('refuses an encrypted body from nobody on a public route: 415 media_type_unsupported', async () => {
    const body = Buffer.from(encryptCompact(Buffer.from('{}'), encryptionKey, { kid: caller.id }), 'latin1');
    const res = await rawRequest(url, { method: 'POST', path: '/open', headers: { 'content-type': JWE_MEDIA_TYPE }, body });
    expect(res.status).toBe(415);
    expect(res.json).toMatchObject({ reason: 'media_type_unsupported' });
    const plain = await rawRequest(url, { method: 'POST', path: '/open', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(plain.status).toBe(200);
    expect(plain.json).toEqual({ open: true });
  });

  it('refuses a signed ciphertext that does not decrypt: 400 decryption_failed, in plaintext', async () => {
    const jwe = encryptCompact(Buffer.from(JSON.stringify(ORDER)), encryptionKey, { kid: caller.id, cty: 'application/json' });
    const parts = jwe.split('.');
    parts[3] = (parts[3][0] === 'A' ? 'B' : 'A') + parts[3].slice(1);
    const body = Buffer.from(parts.join('.'), 'latin1');
    const headers = signedHeaders(url, signing, {
      method: 'POST',
      path: '/echo',
      body,
      contentType: JWE_MEDIA_TYPE,
      headers: { accept: JWE_MEDIA_TYPE },
    });
    const res = await rawRequest(url, { method: 'POST', path: '/echo', headers, body });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ reason: 'decryption_failed' });
  });
});
