import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createInventoryApp } from './inventory-app.js';

const adapter = process.env.HTTP_ADAPTER === 'fastify' ? 'fastify' : 'express';
const app = await createInventoryApp({ env: process.env, adapter });
const port = Number(process.env.PORT ?? 8082);
await app.listen(port, process.env.HOST ?? '127.0.0.1');
new Logger('Bootstrap').log(`inventory-service listening on port ${port} (${adapter})`);
