/**
 * Encrypted message payloads over Nest's TCP transport: a SignedClientsModule client with `encrypt`
 * sends its payloads as JWEs (signed over) and insists on sealed answers; the callee opens them
 * under the pair's key and seals its answers, bound to the request's nonce, as HTTP does. Hand-made
 * envelopes (a plain ClientProxy carrying what signMessage builds) show what is refused, and why:
 * the handlers' encryption policies, and payloads under a key being rotated out. What holds on every
 * transport (a sealed answer, a tampered ciphertext, encrypted events) is in signed-messages.e2e-spec.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Inject, Module, type INestApplicationContext, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientProxyFactory, MessagePattern, Payload, Transport, type ClientProxy, type MicroserviceOptions } from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';
import { randomBytes } from 'node:crypto';
import { Caller, EncryptedBody, ServiceAuthKeys, ServiceAuthModule, type VerifiedCaller } from 'nest-service-auth';
import {
  encryptCompact,
  EnvKeyProvider,
  KeyRing,
  openSignedMessageAnswer,
  signMessage,
  signRequest,
  type SignedMessageEnvelope,
  type ResolvedKey,
} from 'nest-service-auth/core';
import { MessageAnswerRefusedError, SignedClientsModule, type SignedClientProxy } from 'nest-service-auth/microservices';
import { keyList, newCredential, type TestCredential } from './support/credentials.js';
import { findFreePort, LOOPBACK } from './support/server-process.js';

/** The credential's shared keys: signed messages use hmac-sha256 pairs. */
function asHmacKey(key: ResolvedKey | undefined) {
  if (key?.algorithm !== 'hmac-sha256') throw new Error('expected an hmac-sha256 credential');
  return key;
}

const CALLEE = 'inventory-service';
const CALLER = 'order-service';
const orderKey = newCredential('order-2026-11');
const UNUSED_URL = 'http://inventory-service.invalid';

@Controller()
class SealedInventoryMessages {
  /** The module's policy (`optional`): encrypted or not, and sealed when the caller asks. */
  @MessagePattern('inventory.update')
  update(@Payload() data: unknown, @Caller() caller: VerifiedCaller) {
    return { updated: data, caller: caller.id };
  }

  @MessagePattern('inventory.secret')
  @EncryptedBody('required')
  secret(@Payload() data: unknown) {
    return { stored: data };
  }

  @MessagePattern('inventory.plain')
  @EncryptedBody('off')
  plain() {
    return { plain: true };
  }
}

@Module({
  imports: [
    ServiceAuthModule.forRoot({
      serviceId: CALLEE,
      encryption: 'optional',
      keys: { callers: [{ id: CALLER, keys: [orderKey] }] },
    }),
  ],
  controllers: [SealedInventoryMessages],
})
class CalleeModule {}

async function startCaller(port: number, encrypt: boolean): Promise<{ context: INestApplicationContext; proxy: SignedClientProxy }> {
  @Module({
    imports: [
      SignedClientsModule.register({
        serviceId: CALLER,
        encrypt,
        keys: { upstreams: [{ id: CALLEE, url: UNUSED_URL, keys: [orderKey] }] },
        clients: [{ name: 'INVENTORY', upstream: CALLEE, transport: Transport.TCP, options: { host: LOOPBACK, port } }],
      }),
    ],
  })
  class CallerModule {
    constructor(@Inject('INVENTORY') readonly proxy: SignedClientProxy) {}
  }
  const context = await NestFactory.createApplicationContext(CallerModule, { logger: false });
  return { context, proxy: context.get(CallerModule).proxy };
}

/** order-service's key as its ring resolves it: signs, encrypts and opens hand-made messages. */
function orderSigningKey(credential: TestCredential = orderKey) {
  return asHmacKey(KeyRing.from({ upstreams: [{ id: CALLEE, url: UNUSED_URL, keys: [credential] }] }, CALLER).upstream(CALLEE)!.keys[0]);
}

async function refusalOf(promise: Promise<unknown>): Promise<{ status?: number; reason?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as { status?: number; reason?: string };
  }
  throw new Error('expected a refusal, got an answer');
}

describe('encrypted message payloads over TCP', () => {
  let callee: INestMicroservice;
  let encrypting: { context: INestApplicationContext; proxy: SignedClientProxy };
  let signing: { context: INestApplicationContext; proxy: SignedClientProxy };
  let raw: ClientProxy;

  beforeAll(async () => {
    const port = await findFreePort();
    callee = await NestFactory.createMicroservice<MicroserviceOptions>(CalleeModule, {
      transport: Transport.TCP,
      options: { host: LOOPBACK, port },
      logger: false,
    });
    await callee.listen();
    encrypting = await startCaller(port, true);
    signing = await startCaller(port, false);
    raw = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: LOOPBACK, port } });
    await Promise.all([encrypting.proxy.connect(), signing.proxy.connect(), raw.connect()]);
  }, 30_000);

  afterAll(async () => {
    await raw?.close();
    await encrypting?.context.close();
    await signing?.context.close();
    await callee?.close();
  });

  it('accepts an encrypted send(): the handler gets the opened payload, the client the opened sealed answer', async () => {
    await expect(firstValueFrom(encrypting.proxy.send('inventory.update', { sku: 'enc-1', quantity: 2 }))).resolves.toEqual({
      updated: { sku: 'enc-1', quantity: 2 },
      caller: CALLER,
    });
    await expect(firstValueFrom(encrypting.proxy.send('inventory.secret', { pin: '1234' }))).resolves.toEqual({ stored: { pin: '1234' } });
  });

  it("refuses a plaintext message to a handler whose policy is 'required' with 415 encryption_required", async () => {
    expect(await refusalOf(firstValueFrom(signing.proxy.send('inventory.secret', { pin: '1' })))).toMatchObject({
      status: 415,
      reason: 'encryption_required',
    });
  });

  it("seals every answer of a 'required' handler; a client that did not encrypt opens it as well", async () => {
    const key = orderSigningKey();
    const { envelope, nonce } = signMessage({ kind: 'SEND', pattern: 'inventory.secret', data: { pin: '2' }, encrypt: true }, key);
    const answer = await firstValueFrom(raw.send<{ serviceAuthAnswer: Record<string, string> }>('inventory.secret', envelope));
    expect(answer.serviceAuthAnswer['content-type']).toBe('application/jose');
    expect(openSignedMessageAnswer(answer, { nonce, callerId: CALLER, upstream: CALLEE }, () => key)).toEqual({ stored: { pin: '2' } });
  });

  it('refuses a plaintext answer when it asked for a sealed one (answer_not_sealed)', async () => {
    // No data, so nothing to encrypt: the message still asks for a sealed answer, which a handler
    // whose policy is 'off' does not give.
    const error = await refusalOf(firstValueFrom(encrypting.proxy.send('inventory.plain', undefined)));
    expect(error).toBeInstanceOf(MessageAnswerRefusedError);
    expect((error as MessageAnswerRefusedError).reason).toBe('answer_not_sealed');
  });

  it("refuses an encrypted payload to a handler whose policy is 'off' with 415 media_type_unsupported", async () => {
    expect(await refusalOf(firstValueFrom(encrypting.proxy.send('inventory.plain', { x: 1 })))).toMatchObject({
      status: 415,
      reason: 'media_type_unsupported',
    });
  });
});

/**
 * A `send()` whose payload is `jwe` as it is, signed over (content-type application/jose) with
 * `signer`: a JWE under another key of the caller than the one that signs.
 */
function signedOver(
  pattern: string,
  jwe: string,
  signer: ReturnType<typeof orderSigningKey>,
): { envelope: SignedMessageEnvelope; nonce: string } {
  const headers = { 'content-type': 'application/jose', accept: 'application/jose' };
  const url = `http://message.invalid/${pattern}`;
  const nonce = randomBytes(16).toString('base64url');
  const signed = signRequest({ method: 'SEND', url, headers, body: Buffer.from(jwe, 'utf8') }, signer, { nonce });
  return { envelope: { serviceAuth: { ...headers, ...signed }, payload: jwe }, nonce };
}

/**
 * PROTOCOL.md §6 for messages: inventory-service holds two keys of order-service (the new one first,
 * the old one second), reloaded in place. A payload under the old key opens while both are held,
 * whether the old key also signed it or the new one did (the JWE's `kid` names the old one), and the
 * answer is sealed under the key that signed. Once the old key is removed, both are refused with the
 * documented reasons: `api_key_invalid` for a message carrying the old API key, `key_unknown` for a
 * payload under the retired key id.
 */
describe('encrypted messages through a key rotation, over TCP', () => {
  const oldKey = newCredential('order-2026-10');
  const newKey = newCredential('order-2026-11');
  const env: Record<string, string> = { SERVICE_AUTH_CALLERS: CALLER, SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS: keyList(newKey, oldKey) };
  let callee: INestMicroservice;
  let raw: ClientProxy;

  beforeAll(async () => {
    @Module({
      imports: [
        ServiceAuthModule.forRoot({
          serviceId: CALLEE,
          encryption: 'required',
          keyProvider: new EnvKeyProvider({ get: (name) => env[name] }),
        }),
      ],
      controllers: [SealedInventoryMessages],
    })
    class RotatingCalleeModule {}
    const options = { host: LOOPBACK, port: await findFreePort() };
    callee = await NestFactory.createMicroservice<MicroserviceOptions>(RotatingCalleeModule, {
      transport: Transport.TCP,
      options,
      logger: false,
    });
    await callee.listen();
    raw = ClientProxyFactory.create({ transport: Transport.TCP, options });
    await raw.connect();
  }, 30_000);

  afterAll(async () => {
    await raw?.close();
    await callee?.close();
  });

  /** Signed and encrypted with the old key, as by a caller that has not switched yet. */
  function underOldKey(sku: string) {
    return signMessage({ kind: 'SEND', pattern: 'inventory.update', data: { sku }, encrypt: true }, orderSigningKey(oldKey));
  }

  /** Signed with the new key, its payload still encrypted under the old one (`kid` the old key's id). */
  function encryptedUnderOldSignedWithNew(sku: string) {
    const old = orderSigningKey(oldKey);
    const jwe = encryptCompact(Buffer.from(JSON.stringify({ sku })), old.encryptionKey, { kid: old.id });
    return signedOver('inventory.update', jwe, orderSigningKey(newKey));
  }

  async function answerTo(message: { envelope: SignedMessageEnvelope; nonce: string }, opener: TestCredential): Promise<unknown> {
    const answer = await firstValueFrom(raw.send<unknown>('inventory.update', message.envelope));
    const binding = { nonce: message.nonce, callerId: CALLER, upstream: CALLEE, sealed: true };
    return openSignedMessageAnswer(answer, binding, (keyId) => (keyId === opener.id ? orderSigningKey(opener) : undefined));
  }

  it('accepts a payload under the old key while the callee holds both, and seals the answer under the signing key', async () => {
    await expect(answerTo(underOldKey('rot-1'), oldKey)).resolves.toEqual({ updated: { sku: 'rot-1' }, caller: CALLER });
    await expect(answerTo(encryptedUnderOldSignedWithNew('rot-2'), newKey)).resolves.toEqual({
      updated: { sku: 'rot-2' },
      caller: CALLER,
    });
  });

  it('refuses it once the old key is removed: api_key_invalid signed with the old key, key_unknown under its id', async () => {
    env.SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS = keyList(newKey);
    await callee.get(ServiceAuthKeys).reload();

    expect(await refusalOf(firstValueFrom(raw.send('inventory.update', underOldKey('rot-3').envelope)))).toMatchObject({
      status: 401,
      reason: 'api_key_invalid',
    });
    expect(await refusalOf(firstValueFrom(raw.send('inventory.update', encryptedUnderOldSignedWithNew('rot-4').envelope)))).toMatchObject({
      status: 401,
      reason: 'key_unknown',
    });
    // The new key alone still does.
    const current = signMessage(
      { kind: 'SEND', pattern: 'inventory.update', data: { sku: 'rot-5' }, encrypt: true },
      orderSigningKey(newKey),
    );
    await expect(answerTo(current, newKey)).resolves.toEqual({ updated: { sku: 'rot-5' }, caller: CALLER });
  });
});
