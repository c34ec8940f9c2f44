import { afterEach, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, type DynamicModule, type INestApplication } from '@nestjs/common';
import { ClientProxyFactory, EventPattern, MessagePattern, Payload, Transport, type ClientProxy } from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';
import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { PublicRoute, ServiceAuthModule, TrustedCaller } from 'nest-service-auth';
import { KeyRing, openSignedMessageAnswer, signMessage } from 'nest-service-auth/core';
import { newCredential } from './support/credentials.js';
import { listenUrl } from './support/demo-services.js';
import { rawRequest, reasonOf, signedHeaders, signingCredential } from './support/raw-http.js';
import { createServiceApp } from 'service-app';
import { sleep } from './support/server-process.js';

const billing = newCredential('billing-2026-11');
const authOptions = { serviceId: 'ledger-service', keys: { callers: [{ id: 'billing-service', keys: [billing] }] } };

@Controller('ledger')
class LedgerController {
  @Get()
  entries() {
    return { entries: 3 };
  }

  @MessagePattern('ledger.balance')
  balance() {
    return { balance: 42 };
  }

  @MessagePattern('ledger.ping')
  @PublicRoute()
  ping() {
    return 'pong';
  }
}

@Controller()
class TrustedMessageController {
  @MessagePattern('ledger.close')
  @TrustedCaller('billing-service')
  close() {
    return { closed: true };
  }
}

@Controller()
@TrustedCaller('billing-service')
class TrustedEventsController {
  @EventPattern('ledger.closed')
  onClosed(_event: unknown) {}
}

/** What the journal's handlers were given, in order: an unsigned message must never get here. */
const journal: unknown[] = [];

@Controller('journal')
class JournalController {
  @Get()
  size() {
    return { size: journal.length };
  }

  @MessagePattern('journal.append')
  append(@Payload() entry: unknown) {
    journal.push(entry);
    return { appended: entry };
  }

  @EventPattern('journal.appended')
  appended(@Payload() entry: unknown) {
    journal.push(entry);
  }
}

/** billing-service's key for ledger-service, as a caller's key ring resolves it. */
function billingKey() {
  const key = KeyRing.from(
    { upstreams: [{ id: 'ledger-service', url: 'http://ledger.invalid', keys: [billing] }] },
    'billing-service',
  ).upstream('ledger-service')!.keys[0];
  if (key.algorithm !== 'hmac-sha256') throw new Error('expected an hmac-sha256 credential');
  return key;
}

function appModule(controller: DynamicModule['controllers']): DynamicModule {
  @Module({})
  class HybridModule {}
  return { module: HybridModule, imports: [ServiceAuthModule.forRoot(authOptions)], controllers: controller };
}

/** A port nothing listens on (the TCP transport needs one before it listens). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A hybrid app (HTTP plus a TCP microservice, sharing the app's global guard): messages are verified
 * as signed envelopes, so an unsigned one to a handler that is not public is refused, never run.
 */
describe.each(['express', 'fastify'] as const)('a hybrid app with a TCP microservice (%s)', (adapter) => {
  let app: INestApplication | undefined;
  let client: ClientProxy | undefined;
  afterEach(async () => {
    await client?.close();
    await app?.close();
    app = client = undefined;
  });

  async function startHybrid(controllers: DynamicModule['controllers']): Promise<{ url: string; port: number }> {
    app = await createServiceApp(appModule(controllers), { adapter, logger: false });
    const port = await freePort();
    app.connectMicroservice({ transport: Transport.TCP, options: { host: '127.0.0.1', port } }, { inheritAppConfig: true });
    await app.startAllMicroservices();
    const url = await listenUrl(app);
    client = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port } });
    return { url, port };
  }

  it('refuses an unsigned message to a handler that is not public with api_key_missing, and runs a signed one', async () => {
    await startHybrid([LedgerController]);
    const error = await firstValueFrom(client!.send('ledger.balance', {})).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toEqual({ status: 401, reason: 'api_key_missing', message: expect.any(String) });
    const { envelope } = signMessage({ kind: 'SEND', pattern: 'ledger.balance', data: {} }, billingKey());
    await expect(firstValueFrom(client!.send('ledger.balance', envelope))).resolves.toHaveProperty('serviceAuthAnswer');
  });

  it('runs a @PublicRoute() message pattern, and still verifies HTTP', async () => {
    const { url } = await startHybrid([LedgerController]);
    await expect(firstValueFrom(client!.send('ledger.ping', {}))).resolves.toBe('pong');

    const unsigned = await rawRequest(url, { method: 'GET', path: '/ledger' });
    expect([unsigned.status, reasonOf(unsigned)]).toEqual([401, 'api_key_missing']);
    const headers = signedHeaders(url, signingCredential(billing, { audience: 'ledger-service' }), { method: 'GET', path: '/ledger' });
    const signed = await rawRequest(url, { method: 'GET', path: '/ledger', headers });
    expect([signed.status, signed.json]).toEqual([200, { entries: 3 }]);
  });

  /** The error the app's start-up (init) fails with, or undefined when it starts. */
  async function startupError(controllers: DynamicModule['controllers']): Promise<unknown> {
    const candidate = await createServiceApp(appModule(controllers), { adapter, logger: false });
    try {
      await candidate.init();
      return undefined;
    } catch (error) {
      return error;
    } finally {
      await candidate.close().catch(() => undefined);
    }
  }

  it('applies @TrustedCaller on a @MessagePattern handler (and a controller serving an @EventPattern) to signed messages', async () => {
    await startHybrid([TrustedMessageController, TrustedEventsController]);
    const { envelope } = signMessage({ kind: 'SEND', pattern: 'ledger.close', data: {} }, billingKey());
    await expect(firstValueFrom(client!.send('ledger.close', envelope))).resolves.toHaveProperty('serviceAuthAnswer');
    await expect(startupError([TrustedEventsController])).resolves.toBeUndefined();
  });
});

/**
 * `app.connectMicroservice(options)` without `{ inheritAppConfig: true }` gives the microservice none
 * of the app's global guards and interceptors: the library binds its guard and answer interceptor to
 * every controller with message handlers, so messages are verified and answers signed either way, and
 * when the configuration is inherited (both run twice) a message is still verified once and its
 * answer signed once.
 */
describe.each([
  ['express', false],
  ['express', true],
  ['fastify', false],
  ['fastify', true],
] as const)('a hybrid app (%s) whose microservice inherits the app configuration: %s', (adapter, inheritAppConfig) => {
  let app: INestApplication | undefined;
  let client: ClientProxy | undefined;
  let url: string;
  afterEach(async () => {
    await client?.close();
    await app?.close();
    app = client = undefined;
  });

  async function start(): Promise<void> {
    app = await createServiceApp(appModule([JournalController]), { adapter, logger: false });
    const port = await freePort();
    app.connectMicroservice({ transport: Transport.TCP, options: { host: '127.0.0.1', port } }, { inheritAppConfig });
    await app.startAllMicroservices();
    url = await listenUrl(app);
    client = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port } });
  }

  it('refuses an unsigned send() and drops an unsigned event: neither handler runs', async () => {
    await start();
    journal.length = 0;
    const error = await firstValueFrom(client!.send('journal.append', { unsigned: true })).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toEqual({ status: 401, reason: 'api_key_missing', message: expect.any(String) });
    await firstValueFrom(client!.emit('journal.appended', { unsigned: true }), { defaultValue: undefined });
    // A signed event sent after it on the same connection: once it has run, the unsigned one was decided.
    const marker = randomUUID();
    await firstValueFrom(
      client!.emit('journal.appended', signMessage({ kind: 'EMIT', pattern: 'journal.appended', data: { marker } }, billingKey()).envelope),
      {
        defaultValue: undefined,
      },
    );
    for (let i = 0; i < 250 && journal.length === 0; i++) await sleep(20);
    expect(journal).toEqual([{ marker }]);
  });

  it('runs a signed send() once and signs its answer once, and verifies HTTP requests once', async () => {
    await start();
    journal.length = 0;
    const key = billingKey();
    const { envelope, nonce } = signMessage({ kind: 'SEND', pattern: 'journal.append', data: { entry: 1 } }, key);
    const answer = await firstValueFrom(client!.send<unknown>('journal.append', envelope));
    expect(openSignedMessageAnswer(answer, { nonce, callerId: 'billing-service', upstream: 'ledger-service' }, () => key)).toEqual({
      appended: { entry: 1 },
    });
    expect(journal).toEqual([{ entry: 1 }]);

    const headers = signedHeaders(url, signingCredential(billing, { audience: 'ledger-service' }), { method: 'GET', path: '/journal' });
    const signed = await rawRequest(url, { method: 'GET', path: '/journal', headers });
    expect([signed.status, signed.json]).toEqual([200, { size: 1 }]);
  });
});
