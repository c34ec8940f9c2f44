// The message side of inventory-service without its database, for bench/messages.bench.mjs.
// Compiled with bench-app.ts by `tsc -p bench/tsconfig.json` into bench/dist/message-bench-app.js.
//
// One TCP microservice answering `inventory.update` with what the store would answer, and the client
// that calls it, started apart so that bench/messages.bench.mjs can run them in separate processes
// (bench/message-bench-callee.mjs is the callee's process). Modes:
//   plain   no ServiceAuthModule; a plain ClientProxy sends the data as it is
//   signed  ServiceAuthModule.forRoot with one caller, 'order-service' (nonces in memory); the caller
//           is a SignedClientsModule client: every send() signed, every answer signed and opened
import 'reflect-metadata';
import { Controller, Inject, Module, type DynamicModule, type INestApplicationContext, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientProxyFactory, MessagePattern, Payload, Transport, type ClientProxy, type MicroserviceOptions } from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';
import { Caller, ServiceAuthModule, type VerifiedCaller } from 'nest-service-auth';
import { SignedClientsModule, type SignedClientProxy } from 'nest-service-auth/microservices';

export type MessageBenchMode = 'plain' | 'signed';

export interface MessageBenchCredential {
  id: string;
  apiKey: string;
  secret: string;
}

interface StockUpdate {
  productId: string;
  quantity: number;
}

const CALLEE = 'inventory-service';
const CALLER = 'order-service';
/** SignedClientsModule takes upstreams as key material, URL included; a message does not use it. */
const UNUSED_URL = 'http://inventory-service.invalid';

/**
 * The handler's own work, in µs of busy CPU: 0 is a no-op handler (the worst case for the ratio), 100
 * stands for a handler that does something (a query, a cache round trip) before it answers.
 */
let handlerWorkMicros = 0;

function stockAnswer(update: StockUpdate) {
  if (handlerWorkMicros > 0) {
    const until = performance.now() + handlerWorkMicros / 1000;
    while (performance.now() < until);
  }
  return { productId: update.productId, stock: 100 - update.quantity };
}

@Controller()
class PlainInventoryMessages {
  @MessagePattern('inventory.update')
  update(@Payload() update: StockUpdate) {
    return stockAnswer(update);
  }
}

@Controller()
class SignedInventoryMessages {
  @MessagePattern('inventory.update')
  update(@Payload() update: StockUpdate, @Caller() caller: VerifiedCaller) {
    if (caller.id !== CALLER) throw new Error('unexpected caller');
    return stockAnswer(update);
  }
}

function calleeModule(mode: MessageBenchMode, credential: MessageBenchCredential): DynamicModule {
  @Module({})
  class MessageBenchCallee {}
  if (mode === 'plain') return { module: MessageBenchCallee, controllers: [PlainInventoryMessages] };
  return {
    module: MessageBenchCallee,
    imports: [ServiceAuthModule.forRoot({ serviceId: CALLEE, keys: { callers: [{ id: CALLER, keys: [credential] }] } })],
    controllers: [SignedInventoryMessages],
  };
}

async function signedClient(
  credential: MessageBenchCredential,
  port: number,
): Promise<{ context: INestApplicationContext; proxy: SignedClientProxy }> {
  @Module({
    imports: [
      SignedClientsModule.register({
        serviceId: CALLER,
        keys: { upstreams: [{ id: CALLEE, url: UNUSED_URL, keys: [credential] }] },
        clients: [{ name: 'INVENTORY', upstream: CALLEE, transport: Transport.TCP, options: { host: '127.0.0.1', port } }],
      }),
    ],
  })
  class MessageBenchCaller {
    constructor(@Inject('INVENTORY') readonly proxy: SignedClientProxy) {}
  }
  const context = await NestFactory.createApplicationContext(MessageBenchCaller, { logger: false });
  return { context, proxy: context.get(MessageBenchCaller).proxy };
}

export interface MessageBenchClient {
  /** One send() round trip: resolves with the (opened) answer. */
  send(update: StockUpdate): Promise<unknown>;
  close(): Promise<void>;
}

/** Starts the callee of `mode` on `port` (127.0.0.1); its handler busies itself `workMicros` µs per message. */
export async function startMessageBenchCallee(
  mode: MessageBenchMode,
  port: number,
  credential: MessageBenchCredential,
  workMicros = 0,
): Promise<INestMicroservice> {
  handlerWorkMicros = workMicros;
  const callee: INestMicroservice = await NestFactory.createMicroservice<MicroserviceOptions>(calleeModule(mode, credential), {
    transport: Transport.TCP,
    options: { host: '127.0.0.1', port },
    logger: false,
  });
  await callee.listen();
  return callee;
}

/** Connects the client of `mode` to a callee listening on `port`. */
export async function startMessageBenchClient(
  mode: MessageBenchMode,
  port: number,
  credential: MessageBenchCredential,
): Promise<MessageBenchClient> {
  if (mode === 'plain') {
    const client: ClientProxy = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port } });
    await client.connect();
    return {
      send: (update) => firstValueFrom(client.send('inventory.update', update)),
      close: async () => {
        await client.close();
      },
    };
  }
  const { context, proxy } = await signedClient(credential, port);
  await proxy.connect();
  return {
    send: (update) => firstValueFrom(proxy.send('inventory.update', update)),
    close: async () => {
      await context.close();
    },
  };
}
