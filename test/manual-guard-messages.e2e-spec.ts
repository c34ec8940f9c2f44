/**
 * With `guard: 'manual'` the app installs ServiceAuthGuard itself (here the documented APP_GUARD
 * subclass). A hybrid app's microservice without `inheritAppConfig: true` runs none of the app's
 * global guards: a message that no ServiceAuthGuard verified is refused (401 `caller_unverified`)
 * before a handler that is not @PublicRoute() runs. With `inheritAppConfig: true` the app's guard
 * verifies it, and a signed message runs.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { Controller, Injectable, Module, type INestApplication } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { ClientProxyFactory, MessagePattern, Payload, Transport, type ClientProxy } from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';
import { PublicRoute, ServiceAuthGuard, ServiceAuthModule } from 'nest-service-auth';
import { KeyRing, signMessage } from 'nest-service-auth/core';
import { newCredential } from './support/credentials.js';
import { findFreePort, LOOPBACK } from './support/server-process.js';

const CALLEE = 'inventory-service';
const orderKey = newCredential('order-2026-11');
const ran: unknown[] = [];

@Controller()
class ManualMessages {
  @MessagePattern('stock.read')
  read(@Payload() data: unknown): object {
    ran.push(data);
    return { read: true };
  }

  @PublicRoute()
  @MessagePattern('stock.ping')
  ping(): string {
    return 'pong';
  }
}

@Injectable()
class AppServiceAuthGuard extends ServiceAuthGuard {}

@Module({
  imports: [
    ServiceAuthModule.forRoot({ serviceId: CALLEE, guard: 'manual', keys: { callers: [{ id: 'order-service', keys: [orderKey] }] } }),
  ],
  controllers: [ManualMessages],
  providers: [{ provide: APP_GUARD, useClass: AppServiceAuthGuard }],
})
class ManualModule {}

describe.each([false, true])('guard "manual" with an APP_GUARD subclass, hybrid app, inheritAppConfig: %s', (inheritAppConfig) => {
  let app: INestApplication | undefined;
  let client: ClientProxy | undefined;
  afterEach(async () => {
    await client?.close();
    await app?.close();
    ran.length = 0;
  });

  async function start(): Promise<ClientProxy> {
    const port = await findFreePort();
    app = await NestFactory.create(ManualModule, { logger: false });
    app.connectMicroservice({ transport: Transport.TCP, options: { host: LOOPBACK, port } }, { inheritAppConfig });
    await app.startAllMicroservices();
    return (client = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: LOOPBACK, port } }));
  }

  it('refuses an unsigned send() to a handler that is not public, and runs a public one', async () => {
    const proxy = await start();
    const expected = inheritAppConfig ? 'api_key_missing' : 'caller_unverified';
    await expect(firstValueFrom(proxy.send('stock.read', { unsigned: true }))).rejects.toMatchObject({ status: 401, reason: expected });
    await expect(firstValueFrom(proxy.send('stock.ping', {}))).resolves.toBe('pong');
    expect(ran).toEqual([]);
  });

  it('runs a signed send() only where the app’s guard verified it', async () => {
    const proxy = await start();
    const key = KeyRing.from({ upstreams: [{ id: CALLEE, url: 'http://unused.invalid', keys: [orderKey] }] }, 'order-service').upstream(
      CALLEE,
    )!.keys[0];
    const { envelope } = signMessage({ kind: 'SEND', pattern: 'stock.read', data: { n: 1 } }, key);
    const outcome = firstValueFrom(proxy.send('stock.read', envelope));
    if (inheritAppConfig) {
      await expect(outcome).resolves.toHaveProperty('serviceAuthAnswer');
      expect(ran).toEqual([{ n: 1 }]);
    } else {
      await expect(outcome).rejects.toMatchObject({ status: 401, reason: 'caller_unverified' });
      expect(ran).toEqual([]);
    }
  });
});
