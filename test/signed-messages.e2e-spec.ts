import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Controller, Inject, Module, type INestApplicationContext, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  ClientProxyFactory,
  EventPattern,
  MessagePattern,
  Payload,
  Transport,
  type ClientOptions,
  type ClientProxy,
  type MicroserviceOptions,
} from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { Caller, PublicRoute, ServiceAuthModule, TrustedCaller, type VerifiedCaller } from 'nest-service-auth';
import {
  encryptCompact,
  EnvKeyProvider,
  KeyRing,
  openSignedMessageAnswer,
  signMessage,
  signRequest,
  type MessageKind,
  type ResolvedKey,
  type SignedMessageEnvelope,
} from 'nest-service-auth/core';
import { MessageAnswerRefusedError, SignedClientProxy, SignedClientsModule } from 'nest-service-auth/microservices';
import { newCredential, pairKeys, type TestCredential } from './support/credentials.js';
import { RecordingObserver } from './support/recording.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { startNatsServer } from './support/nats-server.js';
import { startRabbitMqServer } from './support/rabbitmq-server.js';
import { findFreePort, LOOPBACK, sleep } from './support/server-process.js';

/** The credential's shared keys: signed messages use hmac-sha256 pairs. */
function asHmacKey(key: ResolvedKey | undefined) {
  if (key?.algorithm !== 'hmac-sha256') throw new Error('expected an hmac-sha256 credential');
  return key;
}

const CALLEE = 'inventory-service';
const orderKey = newCredential('order-2026-11');
const auditKey = newCredential('audit-2026-11');
/** Upstream URLs are part of the key material; messages do not use them. */
const UNUSED_URL = 'http://inventory-service.invalid';

const received: { pattern: string; data: unknown; caller: string }[] = [];
/** Every callee's verification decisions: a refused event leaves nothing else behind. */
const observer = new RecordingObserver();

@Controller()
class InventoryMessages {
  @MessagePattern('inventory.update')
  update(@Payload() data: unknown, @Caller() caller: VerifiedCaller) {
    return { updated: data, caller: caller.id };
  }

  @MessagePattern('inventory.reserve')
  @TrustedCaller('order-service')
  reserve(@Payload() data: { sku: string }) {
    return { reserved: data.sku };
  }

  @MessagePattern('inventory.ping')
  @PublicRoute()
  ping() {
    return 'pong';
  }

  @EventPattern('inventory.changed')
  changed(@Payload() data: unknown, @Caller() caller: unknown) {
    received.push({ pattern: 'inventory.changed', data, caller: (caller as VerifiedCaller).id });
  }
}

/** A transport under test: how the callee listens and how a client reaches it. */
interface TransportSetup {
  server: MicroserviceOptions;
  client: ClientOptions;
  stop(): Promise<void>;
}

type TransportName = 'TCP' | 'Redis' | 'NATS' | 'RabbitMQ';

async function startTransport(name: TransportName): Promise<TransportSetup> {
  switch (name) {
    case 'TCP': {
      const port = await findFreePort();
      const options = { host: LOOPBACK, port };
      return { server: { transport: Transport.TCP, options }, client: { transport: Transport.TCP, options }, stop: async () => {} };
    }
    case 'Redis': {
      const redis = await startRedisServer();
      const options = { host: LOOPBACK, port: redis.port };
      return { server: { transport: Transport.REDIS, options }, client: { transport: Transport.REDIS, options }, stop: () => redis.stop() };
    }
    case 'NATS': {
      const nats = await startNatsServer();
      const options = { servers: [nats.url] };
      return { server: { transport: Transport.NATS, options }, client: { transport: Transport.NATS, options }, stop: () => nats.stop() };
    }
    case 'RabbitMQ': {
      const rabbit = await startRabbitMqServer();
      const options = { urls: [rabbit.url], queue: `inventory-${randomUUID()}`, queueOptions: { durable: false } };
      return { server: { transport: Transport.RMQ, options }, client: { transport: Transport.RMQ, options }, stop: () => rabbit.stop() };
    }
  }
}

function calleeModule(replay?: { redis: { url: string } }) {
  @Module({
    imports: [
      ServiceAuthModule.forRoot({
        serviceId: CALLEE,
        keys: {
          callers: [
            { id: 'order-service', keys: [orderKey] },
            { id: 'audit-service', keys: [auditKey] },
          ],
        },
        metrics: { observer },
        ...(replay ? { replay } : {}),
      }),
    ],
    controllers: [InventoryMessages],
  })
  class CalleeModule {}
  return CalleeModule;
}

async function startCallee(server: MicroserviceOptions, replay?: { redis: { url: string } }): Promise<INestMicroservice> {
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(calleeModule(replay), { ...server, logger: false });
  await app.listen();
  return app;
}

/** A caller service's signing client, through SignedClientsModule as an application registers it. */
async function startCaller(
  serviceId: string,
  credential: TestCredential,
  client: ClientOptions,
  encrypt = false,
): Promise<{ context: INestApplicationContext; proxy: SignedClientProxy }> {
  @Module({
    imports: [
      SignedClientsModule.register({
        serviceId,
        encrypt,
        keys: { upstreams: [{ id: CALLEE, url: UNUSED_URL, keys: [credential] }] },
        clients: [{ name: 'INVENTORY', upstream: CALLEE, ...client }],
      }),
    ],
  })
  class CallerModule {
    constructor(@Inject('INVENTORY') readonly proxy: SignedClientProxy) {}
  }
  const context = await NestFactory.createApplicationContext(CallerModule, { logger: false });
  return { context, proxy: context.get(CallerModule).proxy };
}

/** The key order-service signs with, as a caller's key ring resolves it (for hand-made messages). */
function orderSigningKey(audience = CALLEE) {
  const ring = KeyRing.from({ upstreams: [{ id: audience, url: UNUSED_URL, keys: [orderKey] }] }, 'order-service');
  return asHmacKey(ring.upstream(audience)!.keys[0]);
}

async function refusalOf(promise: Promise<unknown>): Promise<{ status?: number; reason?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as { status?: number; reason?: string };
  }
  throw new Error('expected a refusal, got an answer');
}

async function eventually(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await sleep(20);
  }
}

/** The JWE text with one character of its ciphertext part changed. */
function flipCiphertext(jwe: string): string {
  const parts = jwe.split('.');
  parts[3] = (parts[3][0] === 'A' ? 'B' : 'A') + parts[3].slice(1);
  return parts.join('.');
}

/**
 * An envelope whose payload is `jwe` as it is, signed over (content-type application/jose), as a
 * caller that encrypted badly would make it: signMessage itself always encrypts well.
 */
function signedOver(kind: MessageKind, pattern: string, jwe: string): SignedMessageEnvelope {
  const headers = { 'content-type': 'application/jose', accept: 'application/jose' };
  const url = `http://message.invalid/${pattern}`;
  const signed = signRequest({ method: kind, url, headers, body: Buffer.from(jwe, 'utf8') }, orderSigningKey());
  return { serviceAuth: { ...headers, ...signed }, payload: jwe };
}

/** A JWE of `data` under order-service's key that its tag does not authenticate. */
function brokenCiphertext(data: unknown): string {
  const key = orderSigningKey();
  return flipCiphertext(encryptCompact(Buffer.from(JSON.stringify(data)), key.encryptionKey, { kid: key.id }));
}

function markerOf(entry: { data: unknown }): string | undefined {
  return (entry.data as { marker?: string } | undefined)?.marker;
}

describe.each<TransportName>(['TCP', 'Redis', 'NATS', 'RabbitMQ'])('signed messages over %s', (transportName) => {
  let transport: TransportSetup;
  let callee: INestMicroservice;
  let order: { context: INestApplicationContext; proxy: SignedClientProxy };
  let audit: { context: INestApplicationContext; proxy: SignedClientProxy };
  /** order-service's client with `encrypt`: payloads go out as JWEs, answers must come back sealed. */
  let sealing: { context: INestApplicationContext; proxy: SignedClientProxy };
  let plain: ClientProxy;

  beforeAll(async () => {
    transport = await startTransport(transportName);
    callee = await startCallee(transport.server);
    order = await startCaller('order-service', orderKey, transport.client);
    audit = await startCaller('audit-service', auditKey, transport.client);
    sealing = await startCaller('order-service', orderKey, transport.client, true);
    plain = ClientProxyFactory.create(transport.client);
    await Promise.all([order.proxy.connect(), audit.proxy.connect(), sealing.proxy.connect(), plain.connect()]);
  }, 90_000);

  afterAll(async () => {
    await plain?.close();
    await sealing?.context.close();
    await order?.context.close();
    await audit?.context.close();
    await callee?.close();
    await transport?.stop();
  }, 30_000);

  it('accepts a signed send(): the handler gets the payload and the verified caller, the answer is signed and opened', async () => {
    const answer = await firstValueFrom(order.proxy.send('inventory.update', { sku: 'sku-1', quantity: 3 }));
    expect(answer).toEqual({ updated: { sku: 'sku-1', quantity: 3 }, caller: 'order-service' });
  });

  it('accepts a signed emit(): the event handler gets the payload and the caller', async () => {
    const marker = randomUUID();
    await firstValueFrom(order.proxy.emit('inventory.changed', { marker }), { defaultValue: undefined });
    await eventually(() => received.some((r) => (r.data as { marker?: string })?.marker === marker));
    expect(received.find((r) => (r.data as { marker?: string })?.marker === marker)?.caller).toBe('order-service');
  });

  it('refuses an unsigned send() with 401 api_key_missing', async () => {
    expect(await refusalOf(firstValueFrom(plain.send('inventory.update', { sku: 'x' })))).toMatchObject({
      status: 401,
      reason: 'api_key_missing',
    });
  });

  it('drops an unsigned event: its handler never runs', async () => {
    const marker = randomUUID();
    await firstValueFrom(plain.emit('inventory.changed', { marker }), { defaultValue: undefined });
    // A signed event sent after it arrives after it (one connection): once it is in, the unsigned one was decided.
    const after = randomUUID();
    await firstValueFrom(order.proxy.emit('inventory.changed', { marker: after }), { defaultValue: undefined });
    await eventually(() => received.some((r) => (r.data as { marker?: string })?.marker === after));
    expect(received.some((r) => (r.data as { marker?: string })?.marker === marker)).toBe(false);
  });

  it('refuses a tampered payload (digest_mismatch) and a message moved to another pattern (signature_invalid)', async () => {
    const { envelope } = signMessage({ kind: 'SEND', pattern: 'inventory.update', data: { sku: 'a', quantity: 1 } }, orderSigningKey());
    const tampered = { ...envelope, payload: JSON.stringify({ sku: 'a', quantity: 1000 }) };
    expect(await refusalOf(firstValueFrom(plain.send('inventory.update', tampered)))).toMatchObject({
      status: 401,
      reason: 'digest_mismatch',
    });
    const moved = signMessage({ kind: 'SEND', pattern: 'inventory.update', data: { sku: 'b' } }, orderSigningKey()).envelope;
    expect(await refusalOf(firstValueFrom(plain.send('inventory.reserve', moved)))).toMatchObject({
      status: 401,
      reason: 'signature_invalid',
    });
  });

  it('refuses a replayed message with nonce_replayed', async () => {
    const { envelope } = signMessage({ kind: 'SEND', pattern: 'inventory.update', data: { sku: 'r' } }, orderSigningKey());
    const first = await firstValueFrom(plain.send<unknown>('inventory.update', envelope));
    expect(first).toHaveProperty('serviceAuthAnswer');
    expect(await refusalOf(firstValueFrom(plain.send('inventory.update', envelope)))).toMatchObject({
      status: 401,
      reason: 'nonce_replayed',
    });
  });

  it('refuses a message signed for another audience with audience_mismatch', async () => {
    const { envelope } = signMessage(
      { kind: 'SEND', pattern: 'inventory.update', data: { sku: 'aud' } },
      orderSigningKey('billing-service'),
    );
    expect(await refusalOf(firstValueFrom(plain.send('inventory.update', envelope)))).toMatchObject({
      status: 401,
      reason: 'audience_mismatch',
    });
  });

  it('refuses a configured caller the handler does not trust with 403 caller_not_trusted', async () => {
    expect(await refusalOf(firstValueFrom(audit.proxy.send('inventory.reserve', { sku: 'z' })))).toMatchObject({
      status: 403,
      reason: 'caller_not_trusted',
    });
    await expect(firstValueFrom(order.proxy.send('inventory.reserve', { sku: 'z' }))).resolves.toEqual({ reserved: 'z' });
  });

  it('refuses an answer that is not bound to the request (a public handler answers unsigned)', async () => {
    const error = await refusalOf(firstValueFrom(order.proxy.send('inventory.ping', {})));
    expect(error).toBeInstanceOf(MessageAnswerRefusedError);
    expect((error as MessageAnswerRefusedError).reason).toBe('answer_unsigned');
  });

  it('accepts an encrypted send(): the handler gets the opened payload, the answer comes back sealed and bound to the nonce', async () => {
    await expect(firstValueFrom(sealing.proxy.send('inventory.update', { sku: 'enc-1', quantity: 2 }))).resolves.toEqual({
      updated: { sku: 'enc-1', quantity: 2 },
      caller: 'order-service',
    });

    // On the wire: ciphertext out, a sealed answer back.
    const key = orderSigningKey();
    const { envelope, nonce } = signMessage({ kind: 'SEND', pattern: 'inventory.update', data: { sku: 'wire-7' }, encrypt: true }, key);
    expect(envelope.payload).not.toContain('wire-7');
    expect(envelope.serviceAuth['content-type']).toBe('application/jose');
    const answer = await firstValueFrom(
      plain.send<{ serviceAuthAnswer: Record<string, string>; payload: string }>('inventory.update', envelope),
    );
    expect(answer.serviceAuthAnswer['content-type']).toBe('application/jose');
    expect(answer.payload.split('.')).toHaveLength(5);
    expect(answer.payload).not.toContain('wire-7');
    const binding = { nonce, callerId: 'order-service', upstream: CALLEE, sealed: true };
    expect(openSignedMessageAnswer(answer, binding, () => key)).toEqual({ updated: { sku: 'wire-7' }, caller: 'order-service' });
    // The same sealed answer for another request (another nonce) does not open.
    expect(() => openSignedMessageAnswer(answer, { ...binding, nonce: 'b3RoZXItcmVxdWVzdC1ub25jZQ' }, () => key)).toThrow(
      MessageAnswerRefusedError,
    );
  });

  it('refuses a tampered ciphertext: digest_mismatch in transit, decryption_failed when signed over', async () => {
    const { envelope } = signMessage({ kind: 'SEND', pattern: 'inventory.update', data: { sku: 't' }, encrypt: true }, orderSigningKey());
    const inTransit: SignedMessageEnvelope = { ...envelope, payload: flipCiphertext(envelope.payload) };
    expect(await refusalOf(firstValueFrom(plain.send('inventory.update', inTransit)))).toMatchObject({
      status: 401,
      reason: 'digest_mismatch',
    });
    // A caller that signs a broken ciphertext: the signature holds, the JWE does not open.
    const broken = signedOver('SEND', 'inventory.update', brokenCiphertext({ sku: 't' }));
    expect(await refusalOf(firstValueFrom(plain.send('inventory.update', broken)))).toMatchObject({
      status: 400,
      reason: 'decryption_failed',
    });
  });

  it('delivers an encrypted emit() to its handler opened, and only ciphertext goes out', async () => {
    const sent = jest.spyOn(sealing.proxy.inner, 'emit');
    try {
      const marker = randomUUID();
      await firstValueFrom(sealing.proxy.emit('inventory.changed', { marker }), { defaultValue: undefined });
      const envelope = sent.mock.calls[0]?.[1] as SignedMessageEnvelope;
      expect(envelope.serviceAuth['content-type']).toBe('application/jose');
      expect(envelope.payload.split('.')).toHaveLength(5);
      expect(envelope.payload).not.toContain(marker);
      await eventually(() => received.some((r) => markerOf(r) === marker));
      expect(received.filter((r) => markerOf(r) === marker)).toEqual([
        { pattern: 'inventory.changed', data: { marker }, caller: 'order-service' },
      ]);
    } finally {
      sent.mockRestore();
    }
  });

  it('drops a tampered encrypted event and counts its refusal: digest_mismatch in transit, decryption_failed when signed over', async () => {
    const before = observer.refusals.length;
    const marker = randomUUID();
    const { envelope } = signMessage({ kind: 'EMIT', pattern: 'inventory.changed', data: { marker }, encrypt: true }, orderSigningKey());
    const inTransit: SignedMessageEnvelope = { ...envelope, payload: flipCiphertext(envelope.payload) };
    await firstValueFrom(plain.emit('inventory.changed', inTransit), { defaultValue: undefined });
    await eventually(() => observer.refusals.length - before >= 1);
    await firstValueFrom(plain.emit('inventory.changed', signedOver('EMIT', 'inventory.changed', brokenCiphertext({ marker }))), {
      defaultValue: undefined,
    });
    await eventually(() => observer.refusals.length - before >= 2);

    const refusal = { route: 'inventory.changed', method: 'EMIT', caller: 'order-service' };
    expect(observer.refusals.slice(before)).toEqual([
      expect.objectContaining({ ...refusal, reason: 'digest_mismatch', status: 401 }),
      expect.objectContaining({ ...refusal, reason: 'decryption_failed', status: 400 }),
    ]);
    // Counted when refused, before any handler: neither reached one.
    expect(received.some((r) => markerOf(r) === marker)).toBe(false);
  });
});

describe('two replicas over TCP sharing the Redis nonce store', () => {
  let redis: RedisServerHandle;
  const replicas: INestMicroservice[] = [];
  const clients: ClientProxy[] = [];

  beforeAll(async () => {
    redis = await startRedisServer();
    for (let i = 0; i < 2; i++) {
      const options = { host: LOOPBACK, port: await findFreePort() };
      replicas.push(await startCallee({ transport: Transport.TCP, options }, { redis: { url: redis.url } }));
      clients.push(ClientProxyFactory.create({ transport: Transport.TCP, options }));
    }
  }, 30_000);

  afterAll(async () => {
    for (const client of clients) await client.close();
    for (const replica of replicas) await replica.close();
    await redis?.stop();
  });

  it('refuses at the second replica a message the first one accepted', async () => {
    const { envelope } = signMessage({ kind: 'SEND', pattern: 'inventory.update', data: { sku: 'twice' } }, orderSigningKey());
    await expect(firstValueFrom(clients[0].send('inventory.update', envelope))).resolves.toHaveProperty('serviceAuthAnswer');
    expect(await refusalOf(firstValueFrom(clients[1].send('inventory.update', envelope)))).toMatchObject({
      status: 401,
      reason: 'nonce_replayed',
    });
  });
});

/**
 * One request over Nest's TCP framing written by hand, as PROTOCOL.md §12.5 describes it for a caller
 * that is not Nest: `<length>#<JSON>` out, the answer packets back until one is disposed.
 */
function rawTcpRequest(port: number, packet: object): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, LOOPBACK);
    const json = JSON.stringify(packet);
    const answers: Record<string, unknown>[] = [];
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('error', reject);
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (let hash = buffer.indexOf('#'); hash > 0; hash = buffer.indexOf('#')) {
        const length = Number(buffer.slice(0, hash));
        if (buffer.length < hash + 1 + length) return;
        const answer = JSON.parse(buffer.slice(hash + 1, hash + 1 + length)) as Record<string, unknown>;
        buffer = buffer.slice(hash + 1 + length);
        answers.push(answer);
        if (answer.isDisposed) {
          socket.end();
          resolve(answers);
          return;
        }
      }
    });
    socket.write(`${json.length}#${json}`);
  });
}

describe("PROTOCOL.md's TCP framing, by a caller that is not Nest", () => {
  let callee: INestMicroservice;
  let port: number;

  beforeAll(async () => {
    port = await findFreePort();
    callee = await startCallee({ transport: Transport.TCP, options: { host: LOOPBACK, port } });
  }, 30_000);

  afterAll(async () => {
    await callee?.close();
  });

  it('gets a signed answer bound to its nonce for a signed packet, and the refusal for an unsigned one', async () => {
    const key = orderSigningKey();
    const { envelope, nonce } = signMessage({ kind: 'SEND', pattern: 'inventory.update', data: { sku: 'raw' } }, key);
    const answers = await rawTcpRequest(port, { pattern: 'inventory.update', data: envelope, id: randomUUID() });
    const answer = answers.find((a) => 'response' in a)?.response;
    const binding = { nonce, callerId: 'order-service', upstream: CALLEE };
    expect(openSignedMessageAnswer(answer, binding, () => key)).toEqual({ updated: { sku: 'raw' }, caller: 'order-service' });

    const refused = await rawTcpRequest(port, { pattern: 'inventory.update', data: { sku: 'raw' }, id: randomUUID() });
    expect(refused.find((a) => 'err' in a)?.err).toEqual({ status: 401, reason: 'api_key_missing', message: expect.any(String) });
  });
});

/** What the ed25519 pair's handlers were given: nothing, ever. */
const ed25519Handled: unknown[] = [];

@Controller()
class Ed25519PairMessages {
  @MessagePattern('stock.write')
  write(@Payload() data: unknown) {
    ed25519Handled.push(data);
    return { written: data };
  }

  @EventPattern('stock.written')
  written(@Payload() data: unknown) {
    ed25519Handled.push(data);
  }
}

describe('an ed25519 pair and signed messages (hmac-sha256 only), over TCP', () => {
  // inventory-service holds order-service's ed25519 public key (and its own answer and encryption keys).
  const pair = pairKeys('ed25519', UNUSED_URL);
  const ed25519Observer = new RecordingObserver();
  let callee: INestMicroservice;
  let plain: ClientProxy;
  let caller: INestApplicationContext;
  let proxy: SignedClientProxy;

  beforeAll(async () => {
    @Module({
      imports: [
        ServiceAuthModule.forRoot({
          serviceId: CALLEE,
          keyProvider: new EnvKeyProvider({ get: (name) => pair.inventory[name] }),
          metrics: { observer: ed25519Observer },
        }),
      ],
      controllers: [Ed25519PairMessages],
    })
    class Ed25519CalleeModule {}
    const options = { host: LOOPBACK, port: await findFreePort() };
    callee = await NestFactory.createMicroservice<MicroserviceOptions>(Ed25519CalleeModule, {
      transport: Transport.TCP,
      options,
      logger: false,
    });
    await callee.listen();
    plain = ClientProxyFactory.create({ transport: Transport.TCP, options });

    @Module({
      imports: [
        SignedClientsModule.register({
          serviceId: 'order-service',
          keyProvider: new EnvKeyProvider({ get: (name) => pair.order[name] }),
          clients: [{ name: 'INVENTORY', upstream: CALLEE, transport: Transport.TCP, options }],
        }),
      ],
    })
    class Ed25519CallerModule {
      constructor(@Inject('INVENTORY') readonly proxy: SignedClientProxy) {}
    }
    caller = await NestFactory.createApplicationContext(Ed25519CallerModule, { logger: false });
    proxy = caller.get(Ed25519CallerModule).proxy;
    await Promise.all([plain.connect(), proxy.connect()]);
  }, 30_000);

  afterAll(async () => {
    await plain?.close();
    await caller?.close();
    await callee?.close();
  });

  /** order-service's ed25519 key as its own ring resolves it: the private key, which signs. */
  function ed25519SigningKey() {
    const key = KeyRing.from(new EnvKeyProvider({ get: (name) => pair.order[name] }).load(), 'order-service').upstream(CALLEE)!.keys[0];
    expect(key.algorithm).toBe('ed25519');
    return key;
  }

  it('refuses a message signed with the ed25519 key with 401 signature_algorithm_unsupported, and drops such an event; no handler runs', async () => {
    const { envelope } = signMessage({ kind: 'SEND', pattern: 'stock.write', data: { sku: 'ed-1' } }, ed25519SigningKey());
    expect(await refusalOf(firstValueFrom(plain.send('stock.write', envelope)))).toMatchObject({
      status: 401,
      reason: 'signature_algorithm_unsupported',
    });

    const event = signMessage({ kind: 'EMIT', pattern: 'stock.written', data: { sku: 'ed-2' } }, ed25519SigningKey()).envelope;
    await firstValueFrom(plain.emit('stock.written', event), { defaultValue: undefined });
    await eventually(() => ed25519Observer.refusals.length >= 2);
    const refusal = { caller: 'order-service', reason: 'signature_algorithm_unsupported', status: 401 };
    expect(ed25519Observer.refusals).toEqual([
      expect.objectContaining({ ...refusal, route: 'stock.write', method: 'SEND' }),
      expect.objectContaining({ ...refusal, route: 'stock.written', method: 'EMIT' }),
    ]);
    expect(ed25519Handled).toEqual([]);
  });

  it('fails a SignedClientProxy call whose upstream key is ed25519 with a clear error, before anything is sent', async () => {
    const sends = jest.spyOn(proxy.inner, 'send');
    const emits = jest.spyOn(proxy.inner, 'emit');
    try {
      const clear = /Signed messages to inventory-service need an hmac-sha256 credential; its current key order-2026-12 is ed25519/;
      const error = await refusalOf(firstValueFrom(proxy.send('stock.write', { sku: 'ed-3' })));
      expect(error).toBeInstanceOf(TypeError);
      expect((error as TypeError).message).toMatch(clear);
      expect(() => proxy.emit('stock.written', { sku: 'ed-4' })).toThrow(clear);
      expect(sends).not.toHaveBeenCalled();
      expect(emits).not.toHaveBeenCalled();
    } finally {
      sends.mockRestore();
      emits.mockRestore();
    }
  });
});
