/**
 * A custom transport may reuse one context object for every message of a channel. A message's
 * verification and its verified caller belong to that message's data, never to the context: a signed
 * message followed by unsigned ones on the same channel runs its handler once.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { BaseRpcContext, EventPattern, Payload, Server, type CustomTransportStrategy } from '@nestjs/microservices';
import { Caller, ServiceAuthModule, type VerifiedCaller } from 'nest-service-auth';
import { KeyRing, signMessage, type ResolvedKey } from 'nest-service-auth/core';
import { newCredential } from './support/credentials.js';

const CALLEE = 'inventory-service';
const orderKey = newCredential('order-2026-11');

class ChannelContext extends BaseRpcContext<[string]> {
  getChannel(): string {
    return this.args[0];
  }
}

/** A pub/sub-like transport: one context object per channel, handed to every message on it. */
class ChannelServer extends Server implements CustomTransportStrategy {
  private readonly contexts = new Map<string, ChannelContext>();

  listen(callback: () => void): void {
    callback();
  }

  close(): void {}

  on(): never {
    return undefined as never;
  }

  unwrap<T>(): T {
    return undefined as T;
  }

  /** Runs the channel's handler; resolves once it has run or been refused. */
  async deliver(channel: string, data: unknown): Promise<void> {
    let context = this.contexts.get(channel);
    if (!context) this.contexts.set(channel, (context = new ChannelContext([channel])));
    const handler = this.getHandlerByPattern(channel)!;
    const outcome: unknown = await handler(data, context);
    if (outcome && typeof (outcome as { subscribe?: unknown }).subscribe === 'function') {
      await new Promise<void>((resolve) =>
        (outcome as { subscribe(o: object): void }).subscribe({ complete: resolve, error: () => resolve() }),
      );
    }
  }
}

const ran: { data: unknown; caller: string }[] = [];

@Controller()
class StockEvents {
  @EventPattern('stock.debit')
  debit(@Payload() data: unknown, @Caller() caller: unknown): void {
    ran.push({ data, caller: (caller as VerifiedCaller).id });
  }
}

@Module({
  imports: [ServiceAuthModule.forRoot({ serviceId: CALLEE, keys: { callers: [{ id: 'order-service', keys: [orderKey] }] } })],
  controllers: [StockEvents],
})
class ChannelModule {}

describe('a transport that reuses one context object per channel', () => {
  let app: INestMicroservice | undefined;
  afterAll(async () => {
    await app?.close();
  });

  it('runs a signed event once, and refuses the unsigned object and primitive messages after it', async () => {
    const server = new ChannelServer();
    app = await NestFactory.createMicroservice(ChannelModule, { strategy: server, logger: false });
    await app.listen();
    const key: ResolvedKey = KeyRing.from(
      { upstreams: [{ id: CALLEE, url: 'http://unused.invalid', keys: [orderKey] }] },
      'order-service',
    ).upstream(CALLEE)!.keys[0];
    const { envelope } = signMessage({ kind: 'EMIT', pattern: 'stock.debit', data: { amount: 5 } }, key);
    await server.deliver('stock.debit', envelope);
    await server.deliver('stock.debit', { forged: true });
    await server.deliver('stock.debit', 'anything');
    expect(ran).toEqual([{ data: { amount: 5 }, caller: 'order-service' }]);
  });
});
