/**
 * Encrypted message payloads over Nest's TCP transport: a SignedClientsModule client with `encrypt`
 * sends its payloads as JWEs (signed over) and insists on sealed answers; the callee opens them
 * under the pair's key and seals its answers, bound to the request's nonce, as HTTP does. Hand-made
 * envelopes (a plain ClientProxy carrying what signMessage builds) show what is refused, and why.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Inject, Module, type INestApplicationContext, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientProxyFactory, MessagePattern, Payload, Transport, type ClientProxy, type MicroserviceOptions } from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';
import { Caller, EncryptedBody, ServiceAuthModule, type VerifiedCaller } from 'nest-service-auth';
import {
  encryptCompact,
  KeyRing,
  openSignedMessageAnswer,
  signMessage,
  signRequest,
  type SignedMessageEnvelope,
  type ResolvedKey,
} from 'nest-service-auth/core';
import { MessageAnswerRefusedError, SignedClientsModule, type SignedClientProxy } from 'nest-service-auth/microservices';
import { newCredential } from './support/credentials.js';
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
function orderSigningKey() {
  return asHmacKey(KeyRing.from({ upstreams: [{ id: CALLEE, url: UNUSED_URL, keys: [orderKey] }] }, CALLER).upstream(CALLEE)!.keys[0]);
}

async function refusalOf(promise: Promise<unknown>): Promise<{ status?: number; reason?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as { status?: number; reason?: string };
  }
  throw new Error('expected a refusal, got an answer');
}

/** The JWE text with one character of its ciphertext part changed. */
function flipCiphertext(jwe: string): string {
  const parts = jwe.split('.');
  parts[3] = (parts[3][0] === 'A' ? 'B' : 'A') + parts[3].slice(1);
  return parts.join('.');
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

  it('puts only ciphertext on the wire, and seals the answer under the pair key, bound to the nonce', async () => {
    const key = orderSigningKey();
    const { envelope, nonce } = signMessage({ kind: 'SEND', pattern: 'inventory.update', data: { sku: 'wire-7' }, encrypt: true }, key);
    expect(envelope.payload).not.toContain('wire-7');
    expect(envelope.serviceAuth['content-type']).toBe('application/jose');
    const answer = await firstValueFrom(
      raw.send<{ serviceAuthAnswer: Record<string, string>; payload: string }>('inventory.update', envelope),
    );
    expect(answer.serviceAuthAnswer['content-type']).toBe('application/jose');
    expect(answer.payload.split('.')).toHaveLength(5);
    expect(answer.payload).not.toContain('wire-7');
    const binding = { nonce, callerId: CALLER, upstream: CALLEE, sealed: true };
    expect(openSignedMessageAnswer(answer, binding, () => key)).toEqual({ updated: { sku: 'wire-7' }, caller: CALLER });
    // The same sealed answer for another request (another nonce) does not open.
    expect(() => openSignedMessageAnswer(answer, { ...binding, nonce: 'b3RoZXItcmVxdWVzdC1ub25jZQ' }, () => key)).toThrow(
      MessageAnswerRefusedError,
    );
  });

  it('refuses a tampered ciphertext with the HTTP reasons: digest_mismatch in transit, decryption_failed when signed over', async () => {
    const key = orderSigningKey();
    const { envelope } = signMessage({ kind: 'SEND', pattern: 'inventory.update', data: { sku: 't' }, encrypt: true }, key);
    const inTransit: SignedMessageEnvelope = { ...envelope, payload: flipCiphertext(envelope.payload) };
    expect(await refusalOf(firstValueFrom(raw.send('inventory.update', inTransit)))).toMatchObject({
      status: 401,
      reason: 'digest_mismatch',
    });

    // A caller that signs a broken ciphertext: the signature holds, the JWE does not open.
    const broken = flipCiphertext(encryptCompact(Buffer.from('{"sku":"t"}'), key.encryptionKey, { kid: key.id }));
    expect(await refusalOf(firstValueFrom(raw.send('inventory.update', signedOver(broken))))).toMatchObject({
      status: 400,
      reason: 'decryption_failed',
    });
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
 * An envelope whose payload is `jwe` as it is, signed over (content-type application/jose), as a
 * caller that encrypted badly would make it: signMessage itself always encrypts well.
 */
function signedOver(jwe: string): SignedMessageEnvelope {
  const headers = { 'content-type': 'application/jose', accept: 'application/jose' };
  const url = 'http://message.invalid/inventory.update';
  const signed = signRequest({ method: 'SEND', url, headers, body: Buffer.from(jwe, 'utf8') }, orderSigningKey());
  return { serviceAuth: { ...headers, ...signed }, payload: jwe };
}
