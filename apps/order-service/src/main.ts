import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createOrderApp } from './order-app.js';

const adapter = process.env.HTTP_ADAPTER === 'fastify' ? 'fastify' : 'express';
const app = await createOrderApp({ env: process.env, adapter });
const port = Number(process.env.PORT ?? 8081);
await app.listen(port, process.env.HOST ?? '127.0.0.1');
new Logger('Bootstrap').log(`order-service listening on port ${port} (${adapter})`);
