/**
 * Every successful answer to an encrypted call is sealed, an empty one included, and bound to the
 * request (nonce) and to its status (PROTOCOL.md §5.1). Otherwise a network attacker could replace
 * any answer, a refusal included, with `200` and no body, or move a sealed answer to another status,
 * and the signing client would take it as the upstream's.
 *
 * The callee side on both adapters (handlers that answer nothing, an empty string, null, 201, 202,
 * 204, a handler writing its own response), read with SignedHttpService and raw; the client side
 * against an upstream that answers whatever the test says.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, HttpCode, Module, Post, Res, type DynamicModule, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { TestingModule } from '@nestjs/testing';
import { createServer, type Server } from 'node:http';
import { firstValueFrom } from 'rxjs';
import { ServiceAuthModule, TrustedCaller } from 'nest-service-auth';
import { SignedHttpService } from 'nest-service-auth/client';
import { decryptCompact, deriveKeys, encryptCompact } from 'nest-service-auth/core';
import { newCredential, type TestCredential } from './support/credentials.js';
import { listenUrl, type Adapter } from './support/demo-services.js';
import { rawRequest, signedHeaders, signingCredential } from './support/raw-http.js';
import { answerSignatureHeaders } from './support/signed-answer.js';
import { signingClientModule } from './support/signing-client.js';

const CALLEE_ID = 'answer-service';
const CALLER_ID = 'client-service';

const encryptionKey = (credential: TestCredential): Buffer => deriveKeys(Buffer.from(credential.secret, 'base64url')).encryptionKey;
const nonceOf = (signatureInput: unknown): string => /nonce="([^"]+)"/.exec(String(signatureInput))?.[1] ?? '';

@Controller('answers')
@TrustedCaller(CALLER_ID)
class AnswersController {
  @Post('nothing')
  nothing(): void {}

  @Post('empty-string')
  @HttpCode(200)
  emptyString() {
    return '';
  }

  @Post('null')
  @HttpCode(200)
  nullAnswer() {
    return null;
  }

  @Post('no-content')
  @HttpCode(204)
  noContent(): void {}

  @Post('accepted')
  @HttpCode(202)
  accepted() {
    return { accepted: true };
  }

  @Get('item')
  item() {
    return { item: 1 };
  }

  /** Writes its own answer: Nest sends nothing of what it returns, so there is nothing to seal. */
  @Post('own-response')
  ownResponse(@Res() res: { status(code: number): { send(body: unknown): unknown } }) {
    res.status(200).send({ writtenBy: 'handler' });
  }
}

@Module({})
class AnswersModule {
  static forRoot(caller: TestCredential): DynamicModule {
    return {
      module: AnswersModule,
      imports: [ServiceAuthModule.forRoot({ serviceId: CALLEE_ID, keys: { callers: [{ id: CALLER_ID, keys: [caller] }] } })],
      controllers: [AnswersController],
    };
  }
}

async function signedClient(upstreamUrl: string, credential: TestCredential, modules: TestingModule[]): Promise<SignedHttpService> {
  const moduleRef = await signingClientModule({
    serviceId: CALLER_ID,
    keys: { upstreams: [{ id: CALLEE_ID, url: upstreamUrl, keys: [credential] }] },
    encrypt: true,
    retry: false,
    circuitBreaker: false,
  });
  modules.push(moduleRef);
  return moduleRef.get(SignedHttpService);
}

describe.each(['express', 'fastify'] as Adapter[])('the callee seals every successful answer of an encrypted exchange (%s)', (adapter) => {
  const credential = newCredential('client-2026-11');
  const modules: TestingModule[] = [];
  let app: INestApplication;
  let url: string;
  let http: SignedHttpService;

  beforeAll(async () => {
    app = await NestFactory.create(AnswersModule.forRoot(credential), adapter === 'fastify' ? new FastifyAdapter() : new ExpressAdapter(), {
      rawBody: true,
      logger: false,
      abortOnError: false,
    });
    url = await listenUrl(app);
    http = await signedClient(url, credential, modules);
  });
  afterAll(async () => {
    for (const moduleRef of modules) await moduleRef.close();
    await app?.close();
  });

  /** A raw signed request asking for an encrypted answer; the answer's status, protected header and plaintext. */
  async function rawSealed(path: string) {
    const headers = signedHeaders(url, signingCredential(credential, { audience: CALLEE_ID }), {
      method: 'POST',
      path,
      headers: { accept: 'application/jose' },
    });
    const res = await rawRequest(url, { method: 'POST', path, headers });
    expect(res.headers['content-type']).toMatch(/^application\/jose/);
    const { header, plaintext } = decryptCompact(res.text, (kid) => (kid === credential.id ? encryptionKey(credential) : undefined));
    return { status: res.status, header, plaintext: plaintext.toString('utf8'), nonce: nonceOf(headers['signature-input']) };
  }

  it('a handler that answers nothing: 201 with a sealed null, bound to the nonce and the status', async () => {
    const sealed = await rawSealed('/answers/nothing');
    expect(sealed).toMatchObject({ status: 201, plaintext: 'null', header: { nonce: sealed.nonce, status: 201 } });
    const res = await firstValueFrom(http.post(`${url}/answers/nothing`));
    expect([res.status, res.data]).toEqual([201, null]);
  });

  it('an empty string and null are sealed as such', async () => {
    expect(await rawSealed('/answers/empty-string')).toMatchObject({ status: 200, plaintext: '""', header: { status: 200 } });
    expect(await rawSealed('/answers/null')).toMatchObject({ status: 200, plaintext: 'null', header: { status: 200 } });
    expect((await firstValueFrom(http.post(`${url}/answers/empty-string`))).data).toBe('');
    expect((await firstValueFrom(http.post(`${url}/answers/null`))).data).toBeNull();
  });

  it('@HttpCode(204): a 204 cannot carry the sealed answer, so it is sent as 200 with a sealed null', async () => {
    expect(await rawSealed('/answers/no-content')).toMatchObject({ status: 200, plaintext: 'null', header: { status: 200 } });
    const res = await firstValueFrom(http.post(`${url}/answers/no-content`));
    expect([res.status, res.data]).toEqual([200, null]);
  });

  it('@HttpCode(202): sealed with status 202', async () => {
    expect(await rawSealed('/answers/accepted')).toMatchObject({ status: 202, plaintext: '{"accepted":true}', header: { status: 202 } });
    expect((await firstValueFrom(http.post(`${url}/answers/accepted`))).data).toEqual({ accepted: true });
  });

  it('a plaintext call (no Accept: application/jose) still gets plaintext, 204 included', async () => {
    const path = '/answers/no-content';
    const headers = signedHeaders(url, signingCredential(credential, { audience: CALLEE_ID }), { method: 'POST', path });
    const res = await rawRequest(url, { method: 'POST', path, headers });
    expect([res.status, res.text]).toEqual([204, '']);
  });

  it('HEAD: the answer has no body on the wire; the client accepts its status', async () => {
    const res = await firstValueFrom(http.head(`${url}/answers/item`));
    expect(res.status).toBe(200);
  });

  it('a handler writing its own response (@Res()) is neither sealed nor signed, and the client refuses it', async () => {
    await expect(firstValueFrom(http.post(`${url}/answers/own-response`))).rejects.toMatchObject({ reason: 'answer_unsigned' });
  });
});

describe('the signing client refuses a 2xx answer to an encrypted call unless it is sealed for its nonce and its status', () => {
  const credential = newCredential('client-2026-11');
  const modules: TestingModule[] = [];
  let upstream: Server;
  let upstreamUrl: string;
  let http: SignedHttpService;
  /** What the upstream answers, given the nonce of the request. */
  let answer: (nonce: string) => { status: number; headers?: Record<string, string>; body?: string };
  const seal = (nonce: string, extra: Record<string, string | number> = {}, plaintext = '{"ok":true}') =>
    encryptCompact(Buffer.from(plaintext), encryptionKey(credential), { kid: credential.id, nonce, ...extra });

  beforeAll(async () => {
    upstream = createServer((req, res) => {
      const nonce = nonceOf(req.headers['signature-input']);
      req.resume();
      req.on('end', () => {
        const { status, headers = {}, body } = answer(nonce);
        const signed = answerSignatureHeaders(req, credential, { status, contentType: headers['content-type'], body });
        res.writeHead(status, { ...headers, ...signed }).end(body);
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as { port: number }).port}`;
    http = await signedClient(upstreamUrl, credential, modules);
  });
  afterAll(async () => {
    for (const moduleRef of modules) await moduleRef.close();
    await new Promise((resolve) => upstream.close(resolve));
  });

  const call = () =>
    firstValueFrom(http.post<unknown>(`${upstreamUrl}/api/inventory`, { productId: 'P123', quantity: 1 })).then((res) => ({
      status: res.status,
      data: res.data,
    }));

  it('control: sealed for its nonce and its status → accepted', async () => {
    answer = (nonce) => ({ status: 201, headers: { 'content-type': 'application/jose' }, body: seal(nonce, { status: 201 }) });
    await expect(call()).resolves.toEqual({ status: 201, data: { ok: true } });
  });

  it('200 with no body (an answer replaced in transit) → encryption_required', async () => {
    answer = () => ({ status: 200 });
    await expect(call()).rejects.toMatchObject({ reason: 'encryption_required' });
  });

  it('200 with an empty JSON string "" → encryption_required', async () => {
    answer = () => ({ status: 200, headers: { 'content-type': 'application/json' }, body: '""' });
    await expect(call()).rejects.toMatchObject({ reason: 'encryption_required' });
  });

  it('204 → encryption_required', async () => {
    answer = () => ({ status: 204 });
    await expect(call()).rejects.toMatchObject({ reason: 'encryption_required' });
  });

  it('a sealed answer moved to another status (sealed 202, sent 200) → decryption_failed', async () => {
    answer = (nonce) => ({ status: 200, headers: { 'content-type': 'application/jose' }, body: seal(nonce, { status: 202 }) });
    await expect(call()).rejects.toMatchObject({ reason: 'decryption_failed' });
  });

  it('a sealed answer without a status member → decryption_failed', async () => {
    answer = (nonce) => ({ status: 200, headers: { 'content-type': 'application/jose' }, body: seal(nonce) });
    await expect(call()).rejects.toMatchObject({ reason: 'decryption_failed' });
  });

  it('a status member that is a string ("200") → decryption_failed', async () => {
    answer = (nonce) => ({ status: 200, headers: { 'content-type': 'application/jose' }, body: seal(nonce, { status: '200' }) });
    await expect(call()).rejects.toMatchObject({ reason: 'decryption_failed' });
  });
});
