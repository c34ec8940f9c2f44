/**
 * ServiceAuthModule.setup(app, options): the one start-up step that applies the routing
 * configuration (global prefix, versioning) and records it for the library, refuses strangers before
 * their body is read on the routes that need a caller (the table of those routes is computed at
 * bootstrap from the discovered controllers), and owns the body parsers.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { Body, Controller, HttpCode, Module, Post, RequestMethod, Version, VersioningType, type INestApplication } from '@nestjs/common';
import { RouterModule } from '@nestjs/core';
import { HttpRoutingConfig, PublicRoute, ServiceAuthModule } from 'nest-service-auth';
import { createServiceApp } from 'service-app';
import { newCredential } from './support/credentials.js';
import type { Adapter } from './support/demo-services.js';
import { listenUrl } from './support/demo-services.js';
import { rawRequest, reasonOf, signedHeaders, signingCredential } from './support/raw-http.js';

const caller = newCredential('order-1');
const signing = signingCredential(caller, { audience: 'ledger-service' });
const serviceAuth = ServiceAuthModule.forRoot({
  serviceId: 'ledger-service',
  keys: { callers: [{ id: 'order-service', keys: [caller] }] },
});

@Controller('entries')
class EntriesController {
  @Post()
  @HttpCode(200)
  @Version('1')
  add(@Body() body: unknown) {
    return { v: 1, body };
  }

  @Post('hook')
  @HttpCode(200)
  @PublicRoute()
  @Version('1')
  hook(@Body() body: unknown) {
    return { hook: true, body };
  }
}

@Module({ controllers: [EntriesController] })
class LedgerModule {}

@Module({ imports: [serviceAuth, LedgerModule, RouterModule.register([{ path: 'ledger', module: LedgerModule }])] })
class AppModule {}

@Controller('health')
class HealthController {
  @Post()
  @HttpCode(200)
  @PublicRoute()
  post(@Body() body: unknown) {
    return { body };
  }
}

@Module({ imports: [serviceAuth], controllers: [HealthController] })
class UnversionedModule {}

describe.each<Adapter>(['express', 'fastify'])('ServiceAuthModule.setup (%s)', (adapter) => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('fails start-up when a handler declares a version but setup() was not given the versioning', async () => {
    app = await createServiceApp(AppModule, { adapter, logger: false });
    app.enableVersioning({ type: VersioningType.URI });
    await expect(app.init()).rejects.toThrow(/versioning options to ServiceAuthModule\.setup/);
  });

  it('applies and records the prefix and versioning; the early check knows the versioned, prefixed, module-pathed routes', async () => {
    const versioning = { type: VersioningType.URI } as const;
    app = await createServiceApp(AppModule, {
      adapter,
      logger: false,
      serviceAuth: { globalPrefix: ['api', { exclude: [{ path: 'health', method: RequestMethod.ALL }] }], versioning },
    });
    const routing = app.get(HttpRoutingConfig);
    expect(routing.versioning).toEqual(versioning);
    expect(routing.globalPrefix).toEqual({ prefix: 'api', options: { exclude: [{ path: 'health', method: RequestMethod.ALL }] } });
    const url = await listenUrl(app);

    // A stranger with a body on the protected route: refused (before its body is read).
    const stranger = await rawRequest(url, {
      method: 'POST',
      path: '/api/v1/ledger/entries',
      headers: { 'content-type': 'application/json' },
      body: '{"amount":5}',
    });
    expect([stranger.status, reasonOf(stranger)]).toEqual([401, 'api_key_missing']);
    // The public route beside it is served.
    const hook = await rawRequest(url, {
      method: 'POST',
      path: '/api/v1/ledger/entries/hook',
      headers: { 'content-type': 'application/json' },
      body: '{"a":1}',
    });
    expect([hook.status, hook.json]).toEqual([200, { hook: true, body: { a: 1 } }]);
    // A known caller is verified as before.
    const body = '{"amount":5}';
    const headers = signedHeaders(url, signing, { method: 'POST', path: '/api/v1/ledger/entries', body });
    const signed = await rawRequest(url, { method: 'POST', path: '/api/v1/ledger/entries', headers, body });
    expect([signed.status, signed.json]).toEqual([200, { v: 1, body: { amount: 5 } }]);
  });

  it('records no versioning for an app that does not version, and honours the prefix exclusions', async () => {
    app = await createServiceApp(UnversionedModule, {
      adapter,
      logger: false,
      serviceAuth: { globalPrefix: ['api', { exclude: ['health'] }] },
    });
    expect(app.get(HttpRoutingConfig).versioning).toBeUndefined();
    const url = await listenUrl(app);
    const res = await rawRequest(url, {
      method: 'POST',
      path: '/health',
      headers: { 'content-type': 'application/json' },
      body: '{"ok":1}',
    });
    expect([res.status, res.json]).toEqual([200, { body: { ok: 1 } }]);
  });

  it('refuses a second call', async () => {
    app = await createServiceApp(UnversionedModule, { adapter, logger: false });
    expect(() => ServiceAuthModule.setup(app!)).toThrow(/already/);
  });
});
