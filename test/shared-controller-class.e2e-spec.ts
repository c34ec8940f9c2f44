/**
 * The guard, interceptor and filter the library binds to a controller with message handlers live on
 * its class, which every application built from it in one process shares. While two live
 * applications use the class, neither's guard is bound to it (it would verify the other's messages
 * with its own callers): each verifies with the guard its microservice inherits, or refuses. An
 * application that closes removes what it bound, so the next one gets its own enhancers, or none.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { Controller, Injectable, Module, type INestApplication, type INestMicroservice } from '@nestjs/common';
import { GUARDS_METADATA } from '@nestjs/common/constants.js';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { ClientProxyFactory, MessagePattern, Payload, Transport, type ClientProxy, type MicroserviceOptions } from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';
import { ServiceAuthGuard, ServiceAuthModule } from 'nest-service-auth';
import { KeyRing, signMessage, type ResolvedKey } from 'nest-service-auth/core';
import { newCredential, type TestCredential } from './support/credentials.js';
import { findFreePort, LOOPBACK } from './support/server-process.js';

const CALLEE = 'inventory-service';
const orderKey = newCredential('order-2026-11');
const billingKey = newCredential('billing-2026-11');

function signingKey(callerId: string, credential: TestCredential): ResolvedKey {
  return KeyRing.from({ upstreams: [{ id: CALLEE, url: 'http://unused.invalid', keys: [credential] }] }, callerId).upstream(CALLEE)!
    .keys[0];
}

const ran: unknown[] = [];

/** One controller class used by several applications (a library's controller, a health check). */
@Controller()
class SharedMessages {
  @MessagePattern('stock.read')
  read(@Payload() data: unknown): object {
    ran.push(data);
    return { read: true };
  }
}

@Injectable()
class AppServiceAuthGuard extends ServiceAuthGuard {}

function moduleFor(callerId: string, credential: TestCredential, guard: 'global' | 'manual' = 'global'): object {
  @Module({
    imports: [ServiceAuthModule.forRoot({ serviceId: CALLEE, guard, keys: { callers: [{ id: callerId, keys: [credential] }] } })],
    controllers: [SharedMessages],
    providers: guard === 'manual' ? [{ provide: APP_GUARD, useClass: AppServiceAuthGuard }] : [],
  })
  class AppModule {}
  return AppModule;
}

async function microservice(module: object): Promise<{ app: INestMicroservice; client: ClientProxy }> {
  const port = await findFreePort();
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(module as never, {
    transport: Transport.TCP,
    options: { host: LOOPBACK, port },
    logger: false,
    abortOnError: false,
  });
  return { app, client: ClientProxyFactory.create({ transport: Transport.TCP, options: { host: LOOPBACK, port } }) };
}

async function hybrid(module: object): Promise<{ app: INestApplication; client: ClientProxy }> {
  const port = await findFreePort();
  const app = await NestFactory.create(module as never, { logger: false });
  app.connectMicroservice({ transport: Transport.TCP, options: { host: LOOPBACK, port } });
  return { app, client: ClientProxyFactory.create({ transport: Transport.TCP, options: { host: LOOPBACK, port } }) };
}

describe('a controller class shared by two applications in one process', () => {
  const opened: { app: INestMicroservice; client: ClientProxy }[] = [];
  afterEach(async () => {
    for (const { app, client } of opened.splice(0)) {
      await client.close();
      await app.close();
    }
    ran.length = 0;
  });

  it('two live standalone microservices: each verifies with its own callers (its own global guard)', async () => {
    const first = await microservice(moduleFor('order-service', orderKey));
    const second = await microservice(moduleFor('billing-service', billingKey));
    opened.push(first, second);
    await first.app.listen();
    await second.app.listen();
    const order = signMessage({ kind: 'SEND', pattern: 'stock.read', data: { to: 'second' } }, signingKey('order-service', orderKey));
    await expect(firstValueFrom(second.client.send('stock.read', order.envelope))).rejects.toMatchObject({ reason: 'api_key_invalid' });
    const billing = signMessage({ kind: 'SEND', pattern: 'stock.read', data: { to: 'second' } }, signingKey('billing-service', billingKey));
    await expect(firstValueFrom(second.client.send('stock.read', billing.envelope))).resolves.toHaveProperty('serviceAuthAnswer');
    const toFirst = signMessage({ kind: 'SEND', pattern: 'stock.read', data: { to: 'first' } }, signingKey('order-service', orderKey));
    await expect(firstValueFrom(first.client.send('stock.read', toFirst.envelope))).resolves.toHaveProperty('serviceAuthAnswer');
    expect(ran).toEqual([{ to: 'second' }, { to: 'first' }]);
  });

  it('two live hybrid apps whose microservices do not inherit their configuration: messages are refused, never verified by the other app', async () => {
    const hybrids = await Promise.all([moduleFor('order-service', orderKey), moduleFor('billing-service', billingKey)].map(hybrid));
    try {
      for (const { app } of hybrids) await app.startAllMicroservices();
      const billing = signMessage(
        { kind: 'SEND', pattern: 'stock.read', data: { to: 'billing app' } },
        signingKey('billing-service', billingKey),
      );
      await expect(firstValueFrom(hybrids[1].client.send('stock.read', billing.envelope))).rejects.toMatchObject({
        status: 401,
        reason: 'caller_unverified',
      });
      const order = signMessage(
        { kind: 'SEND', pattern: 'stock.read', data: { to: 'billing app' } },
        signingKey('order-service', orderKey),
      );
      await expect(firstValueFrom(hybrids[1].client.send('stock.read', order.envelope))).rejects.toMatchObject({
        reason: 'caller_unverified',
      });
      expect(ran).toEqual([]);
    } finally {
      for (const { app, client } of hybrids) {
        await client.close();
        await app.close();
      }
    }
  });

  it('gives an application started after another closed its own callers, not the closed one’s', async () => {
    const closed = await microservice(moduleFor('order-service', orderKey));
    await closed.client.close();
    await closed.app.close();
    const next = await microservice(moduleFor('billing-service', billingKey));
    opened.push(next);
    await next.app.listen();
    const order = signMessage({ kind: 'SEND', pattern: 'stock.read', data: { from: 'order' } }, signingKey('order-service', orderKey));
    await expect(firstValueFrom(next.client.send('stock.read', order.envelope))).rejects.toMatchObject({ reason: 'api_key_invalid' });
    const billing = signMessage(
      { kind: 'SEND', pattern: 'stock.read', data: { from: 'billing' } },
      signingKey('billing-service', billingKey),
    );
    await expect(firstValueFrom(next.client.send('stock.read', billing.envelope))).resolves.toHaveProperty('serviceAuthAnswer');
    expect(ran).toEqual([{ from: 'billing' }]);
  });

  it('leaves no guard of a closed global application to a manual one after it', async () => {
    const closed = await microservice(moduleFor('order-service', orderKey));
    await closed.client.close();
    await closed.app.close();
    expect((Reflect.getMetadata(GUARDS_METADATA, SharedMessages) as unknown[] | undefined) ?? []).toEqual([]);
    const manual = await microservice(moduleFor('billing-service', billingKey, 'manual'));
    opened.push(manual);
    await manual.app.listen();
    expect((Reflect.getMetadata(GUARDS_METADATA, SharedMessages) as unknown[] | undefined) ?? []).toEqual([]);
    // Its own guard (APP_GUARD) accepts its own caller, which the closed application's would refuse.
    const billing = signMessage(
      { kind: 'SEND', pattern: 'stock.read', data: { from: 'billing' } },
      signingKey('billing-service', billingKey),
    );
    await expect(firstValueFrom(manual.client.send('stock.read', billing.envelope))).resolves.toHaveProperty('serviceAuthAnswer');
    expect(ran).toEqual([{ from: 'billing' }]);
  });
});
