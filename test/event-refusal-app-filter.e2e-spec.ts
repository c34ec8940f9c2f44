/**
 * One handler of an event refusing a verified event (its trust list) must not keep the event from
 * the other handlers of its pattern: the library's EventRefusalFilter ends the refusal quietly. An
 * app's own catch-all filter on the controller is tried after it, so it never sees the refusal.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { Catch, Controller, Module, UseFilters, type INestMicroservice, type RpcExceptionFilter } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientProxyFactory, EventPattern, Payload, Transport, type ClientProxy, type MicroserviceOptions } from '@nestjs/microservices';
import { throwError, type Observable } from 'rxjs';
import { ServiceAuthModule, TrustedCaller } from 'nest-service-auth';
import { KeyRing, signMessage } from 'nest-service-auth/core';
import { newCredential } from './support/credentials.js';
import { findFreePort, LOOPBACK, sleep } from './support/server-process.js';

const CALLEE = 'inventory-service';
const orderKey = newCredential('order-2026-11');
const billingKey = newCredential('billing-2026-11');
const caught: unknown[] = [];
const events: string[] = [];

/** An app's catch-all filter that passes every error on (as a logging filter would). */
@Catch()
class AppCatchAll implements RpcExceptionFilter {
  catch(exception: unknown): Observable<unknown> {
    caught.push((exception as Error).name);
    return throwError(() => exception);
  }
}

@Controller()
@UseFilters(new AppCatchAll())
class FilteredEvents {
  @EventPattern('stock.changed')
  @TrustedCaller('billing-service')
  forBilling(@Payload() data: unknown): void {
    events.push(`billing ${JSON.stringify(data)}`);
  }

  @EventPattern('stock.changed')
  forAnyone(@Payload() data: unknown): void {
    events.push(`anyone ${JSON.stringify(data)}`);
  }
}

@Module({
  imports: [
    ServiceAuthModule.forRoot({
      serviceId: CALLEE,
      keys: {
        callers: [
          { id: 'order-service', keys: [orderKey] },
          { id: 'billing-service', keys: [billingKey] },
        ],
      },
    }),
  ],
  controllers: [FilteredEvents],
})
class FilteredModule {}

describe('an app catch-all filter on a controller with event handlers', () => {
  let app: INestMicroservice | undefined;
  let client: ClientProxy | undefined;
  afterEach(async () => {
    await client?.close();
    await app?.close();
  });

  it('does not see a handler’s refusal, and the other handler of the event runs', async () => {
    const port = await findFreePort();
    app = await NestFactory.createMicroservice<MicroserviceOptions>(FilteredModule, {
      transport: Transport.TCP,
      options: { host: LOOPBACK, port },
      logger: false,
    });
    await app.listen();
    client = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: LOOPBACK, port } });
    const key = KeyRing.from({ upstreams: [{ id: CALLEE, url: 'http://unused.invalid', keys: [orderKey] }] }, 'order-service').upstream(
      CALLEE,
    )!.keys[0];
    const { envelope } = signMessage({ kind: 'EMIT', pattern: 'stock.changed', data: { n: 1 } }, key);
    client.emit('stock.changed', envelope);
    for (let waited = 0; events.length === 0 && waited < 2000; waited += 20) await sleep(20);
    await sleep(50);
    expect(caught).toEqual([]);
    expect(events).toEqual(['anyone {"n":1}']);
  });
});
