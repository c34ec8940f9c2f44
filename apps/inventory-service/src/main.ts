import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { Transport, type MicroserviceOptions } from '@nestjs/microservices';
import { createInventoryApp } from './inventory-app.js';

const adapter = process.env.HTTP_ADAPTER === 'fastify' ? 'fastify' : 'express';
const app = await createInventoryApp({ env: process.env, adapter });
const port = Number(process.env.PORT ?? 8082);
if (process.env.INVENTORY_MESSAGE_PORT) {
  // inventory.update as a signed TCP message too. ServiceAuthModule verifies message handlers either way;
  // inheritAppConfig also gives the microservice the app's own global pipes and filters.
  const messagePort = Number(process.env.INVENTORY_MESSAGE_PORT);
  app.connectMicroservice<MicroserviceOptions>(
    { transport: Transport.TCP, options: { host: process.env.HOST ?? '127.0.0.1', port: messagePort } },
    { inheritAppConfig: true },
  );
  await app.startAllMicroservices();
  new Logger('Bootstrap').log(`inventory-service accepting signed messages on TCP port ${messagePort}`);
}
await app.listen(port, process.env.HOST ?? '127.0.0.1');
new Logger('Bootstrap').log(`inventory-service listening on port ${port} (${adapter})`);
