/**
 * The library installs no global exception filter: an application's own global filter for
 * HttpException runs for the application's own exceptions and for the library's refusals (the
 * guard's, the body parsers', the early check's), whichever order the modules are imported in and
 * whether it is declared with APP_FILTER or app.useGlobalFilters(), on both adapters.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import {
  Catch,
  Controller,
  HttpException,
  Module,
  NotFoundException,
  Post,
  Get,
  type ArgumentsHost,
  type ExceptionFilter,
  type INestApplication,
  type Type,
} from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { PublicRoute, ServiceAuthModule } from 'nest-service-auth';
import { createServiceApp } from 'service-app';
import { newCredential } from './support/credentials.js';
import type { Adapter } from './support/demo-services.js';
import { listenUrl } from './support/demo-services.js';
import { rawRequest, signedHeaders, signingCredential } from './support/raw-http.js';

const caller = newCredential('order-1');
const signing = signingCredential(caller, { audience: 'ledger-service' });

/** The application's filter: answers every HttpException with its own shape, saying what it caught. */
@Catch(HttpException)
class AppHttpFilter implements ExceptionFilter {
  catch(exception: HttpException, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<{ status?: (n: number) => unknown; code?: (n: number) => unknown }>();
    const response = exception.getResponse();
    const reason = typeof response === 'object' && response !== null ? (response as { reason?: unknown }).reason : undefined;
    const body = { filteredByApp: true, status: exception.getStatus(), reason: reason ?? null };
    // Express and Fastify answer alike through the adapter's reply.
    const reply = res as unknown as {
      status?: (n: number) => { json(b: unknown): void };
      code?: (n: number) => { send(b: unknown): void };
    };
    if (typeof reply.code === 'function') reply.code(exception.getStatus()).send(body);
    else reply.status!(exception.getStatus()).json(body);
  }
}

@Controller()
class LedgerController {
  @Get('missing')
  @PublicRoute()
  missing(): never {
    throw new NotFoundException('no such entry');
  }

  @Post('entries')
  add(): { ok: true } {
    return { ok: true };
  }
}

const serviceAuth = ServiceAuthModule.forRoot({
  serviceId: 'ledger-service',
  keys: { callers: [{ id: 'order-service', keys: [caller] }] },
});
const appFilter = { provide: APP_FILTER, useClass: AppHttpFilter };

@Module({ providers: [appFilter] })
class FilterModule {}

@Module({ imports: [FilterModule, serviceAuth], controllers: [LedgerController] })
class FilterBeforeModule {}

@Module({ imports: [serviceAuth, FilterModule], controllers: [LedgerController] })
class FilterAfterModule {}

@Module({ imports: [serviceAuth], controllers: [LedgerController], providers: [appFilter] })
class FilterInAppModule {}

@Module({ imports: [serviceAuth], controllers: [LedgerController] })
class NoFilterModule {}

const SETUPS: Array<[string, Type, boolean]> = [
  ['APP_FILTER imported before ServiceAuthModule', FilterBeforeModule, false],
  ['APP_FILTER imported after ServiceAuthModule', FilterAfterModule, false],
  ['APP_FILTER in the app module', FilterInAppModule, false],
  ['app.useGlobalFilters()', NoFilterModule, true],
];

describe.each<Adapter>(['express', 'fastify'])('an application’s own global HttpException filter (%s)', (adapter) => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it.each(SETUPS)('%s: runs for the app’s NotFoundException and the library’s refusals', async (_name, module, useGlobal) => {
    app = await createServiceApp(module, { adapter, logger: false });
    if (useGlobal) app.useGlobalFilters(new AppHttpFilter());
    const url = await listenUrl(app);

    const notFound = await rawRequest(url, { method: 'GET', path: '/missing' });
    expect([notFound.status, notFound.json]).toEqual([404, { filteredByApp: true, status: 404, reason: null }]);

    // The guard's refusal (no body: the early check lets it through).
    const guard = await rawRequest(url, { method: 'POST', path: '/entries' });
    expect([guard.status, guard.json]).toEqual([401, { filteredByApp: true, status: 401, reason: 'api_key_missing' }]);

    // The early check's refusal (a stranger with a body).
    const early = await rawRequest(url, { method: 'POST', path: '/entries', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect([early.status, early.json]).toEqual([401, { filteredByApp: true, status: 401, reason: 'api_key_missing' }]);

    // A body parser's refusal, for a known caller.
    const body = '{"a":';
    const headers = signedHeaders(url, signing, { method: 'POST', path: '/entries', body });
    const parser = await rawRequest(url, { method: 'POST', path: '/entries', headers, body });
    expect([parser.status, parser.json]).toEqual([400, { filteredByApp: true, status: 400, reason: 'body_malformed' }]);
  });
});
