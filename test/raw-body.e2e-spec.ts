import { afterEach, describe, expect, it } from '@jest/globals';
import { Body, Controller, ConsoleLogger, Module, Post, type INestApplication } from '@nestjs/common';
import { ServiceAuthModule } from 'nest-service-auth';
import { newCredential } from './support/credentials.js';
import { listenUrl } from './support/demo-services.js';
import { rawRequest, reasonOf, signedHeaders, signingCredential } from './support/raw-http.js';
import { createServiceApp } from 'service-app';

const caller = newCredential('order-2026-11');

@Controller('echo')
class EchoController {
  @Post()
  echo(@Body() body: unknown) {
    return body;
  }
}

@Module({
  imports: [ServiceAuthModule.forRoot({ serviceId: 'echo-service', keys: { callers: [{ id: 'order-service', keys: [caller] }] } })],
  controllers: [EchoController],
})
class EchoModule {}

/** Collects what the app logs, to check the configuration error is explained there. */
class RecordingLogger extends ConsoleLogger {
  readonly lines: string[] = [];
  override error(message: unknown, ...rest: unknown[]): void {
    this.lines.push(JSON.stringify([message, ...rest]));
  }
  override warn(message: unknown): void {
    this.lines.push(JSON.stringify(message));
  }
  override log(): void {}
}

/**
 * A body parsed without its raw bytes cannot be verified. Without ServiceAuthModule.setup (Nest's own
 * parsers), the guard must say that the server is misconfigured, on both adapters, rather than report
 * a misleading signature failure. The parsers setup installs keep the bytes whatever the app option.
 */
describe.each(['express', 'fastify'] as const)('an app created without rawBody: true (%s)', (adapter) => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('without ServiceAuthModule.setup: answers a configuration error naming rawBody, not a signature failure', async () => {
    const logger = new RecordingLogger();
    app = await createServiceApp(EchoModule, { adapter, logger, rawBody: false, serviceAuth: false });
    const url = await listenUrl(app);
    const body = '{"productId":"P123","quantity":2}';
    const headers = signedHeaders(url, signingCredential(caller, { audience: 'echo-service' }), { method: 'POST', path: '/echo', body });
    const res = await rawRequest(url, { method: 'POST', path: '/echo', headers, body });
    expect([res.status, reasonOf(res)]).toEqual([500, 'raw_body_unavailable']);
    expect(res.text).not.toMatch(/signature|rawBody/i); // the caller learns the server is misconfigured, no more
    expect(logger.lines.join('\n')).toContain('rawBody: true');
  });

  it.each([
    ['created with rawBody: true', { rawBody: true }],
    ['set up with ServiceAuthModule.setup', { rawBody: false }],
  ])('verifies the same request once %s', async (_name, settings) => {
    app = await createServiceApp(EchoModule, { adapter, logger: false, ...settings });
    const url = await listenUrl(app);
    const body = '{"productId":"P123","quantity":2}';
    const headers = signedHeaders(url, signingCredential(caller, { audience: 'echo-service' }), { method: 'POST', path: '/echo', body });
    const res = await rawRequest(url, { method: 'POST', path: '/echo', headers, body });
    expect(res.status).toBe(201);
    expect(res.json).toEqual({ productId: 'P123', quantity: 2 });
  });
});
