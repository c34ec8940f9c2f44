/**
 * A signature runs only the handler it was signed for. Nest also chooses handlers by inputs other
 * than the method and the target (a version header, Accept under media-type versioning, the Host of
 * a host-scoped controller); those become components every signature must cover, so a request signed
 * for one handler and sent, unchanged but for that input, to another is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  Body,
  Controller,
  HttpCode,
  Module,
  Post,
  UnprocessableEntityException,
  VersioningType,
  type INestApplication,
  type VersioningOptions,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { ServiceAuthModule, TrustedCaller } from 'nest-service-auth';
import { newCredential } from './support/credentials.js';
import { listenUrl } from './support/demo-services.js';
import { rawRequest, reasonOf, signedHeaders, signedHeadersForTarget, signingCredential } from './support/raw-http.js';

const caller = newCredential('order-1');
const signing = signingCredential(caller, { audience: 'bank-service' });
const TRANSFER = JSON.stringify({ amount: 500 });

interface Transfer {
  amount: number;
}

@Controller({ path: 'transfers', version: '1' })
class TransfersV1Controller {
  @Post()
  @HttpCode(201)
  @TrustedCaller('order-service')
  create(@Body() transfer: Transfer) {
    return { version: 1, amount: transfer.amount };
  }
}

@Controller({ path: 'transfers', version: '2' })
class TransfersV2Controller {
  /** Version 2 checks a limit that version 1 did not. */
  @Post()
  @HttpCode(201)
  @TrustedCaller('order-service')
  create(@Body() transfer: Transfer) {
    if (transfer.amount > 100) throw new UnprocessableEntityException('over the limit');
    return { version: 2, amount: transfer.amount };
  }
}

const callers = { callers: [{ id: 'order-service', keys: [caller] }] };

@Module({
  imports: [ServiceAuthModule.forRoot({ serviceId: 'bank-service', keys: callers })],
  controllers: [TransfersV1Controller, TransfersV2Controller],
})
class VersionedBankModule {}

async function start(
  module: object,
  adapter: 'express' | 'fastify',
  versioning?: VersioningOptions,
  { trustProxy = false }: { trustProxy?: boolean } = {},
): Promise<{ app: INestApplication; url: string }> {
  const app = await NestFactory.create(module, adapter === 'fastify' ? new FastifyAdapter({ trustProxy }) : new ExpressAdapter(), {
    rawBody: true,
    logger: false,
  });
  if (adapter === 'express' && trustProxy) (app as NestExpressApplication).set('trust proxy', true);
  ServiceAuthModule.setup(app, { versioning });
  return { app, url: await listenUrl(app) };
}

describe.each(['express', 'fastify'] as const)('routing inputs are signed (%s)', (adapter) => {
  describe('header versioning (X-API-Version)', () => {
    let app: INestApplication;
    let url: string;
    beforeAll(async () => {
      ({ app, url } = await start(VersionedBankModule, adapter, { type: VersioningType.HEADER, header: 'X-API-Version' }));
    });
    afterAll(async () => {
      await app?.close();
    });

    const signed = (version: string) =>
      signedHeaders(
        url,
        signing,
        { method: 'POST', path: '/transfers', body: TRANSFER, headers: { 'x-api-version': version } },
        { components: ['x-api-version'] },
      );

    it('runs the handler of the version signed', async () => {
      const v2 = await rawRequest(url, { method: 'POST', path: '/transfers', headers: signed('2'), body: TRANSFER });
      expect(v2.status).toBe(422);
      const v1 = await rawRequest(url, { method: 'POST', path: '/transfers', headers: signed('1'), body: TRANSFER });
      expect(v1.status).toBe(201);
      expect(v1.json).toEqual({ version: 1, amount: 500 });
    });

    it('refuses a request signed for version 2 and sent with version 1: 401, and no handler runs', async () => {
      const headers = { ...signed('2'), 'x-api-version': '1' };
      const res = await rawRequest(url, { method: 'POST', path: '/transfers', headers, body: TRANSFER });
      expect(res.status).toBe(401);
      expect(reasonOf(res)).toBe('signature_invalid');
    });

    it('refuses a signature that does not cover the version header: 401 signature_incomplete', async () => {
      const headers = signedHeadersForTarget(signing, {
        method: 'POST',
        target: '/transfers',
        body: TRANSFER,
        headers: { 'x-api-version': '1' },
      });
      const res = await rawRequest(url, { method: 'POST', path: '/transfers', headers, body: TRANSFER });
      expect(res.status).toBe(401);
      expect(reasonOf(res)).toBe('signature_incomplete');
      expect(res.json).toMatchObject({ message: expect.stringContaining('"x-api-version"') });
    });
  });

  describe('media-type versioning (Accept: application/json;v=N)', () => {
    let app: INestApplication;
    let url: string;
    beforeAll(async () => {
      ({ app, url } = await start(VersionedBankModule, adapter, { type: VersioningType.MEDIA_TYPE, key: 'v=' }));
    });
    afterAll(async () => {
      await app?.close();
    });

    const signed = (version: string) =>
      signedHeaders(
        url,
        signing,
        { method: 'POST', path: '/transfers', body: TRANSFER, headers: { accept: `application/json;v=${version}` } },
        { components: ['accept'] },
      );

    it('runs the handler of the version signed', async () => {
      const v2 = await rawRequest(url, { method: 'POST', path: '/transfers', headers: signed('2'), body: TRANSFER });
      expect(v2.status).toBe(422);
    });

    it('refuses a request signed for version 2 and sent with Accept for version 1', async () => {
      const headers = { ...signed('2'), accept: 'application/json;v=1' };
      const res = await rawRequest(url, { method: 'POST', path: '/transfers', headers, body: TRANSFER });
      expect(res.status).toBe(401);
      expect(reasonOf(res)).toBe('signature_invalid');
    });

    it('refuses a signature that does not cover Accept', async () => {
      const headers = signedHeadersForTarget(signing, {
        method: 'POST',
        target: '/transfers',
        body: TRANSFER,
        headers: { accept: 'application/json;v=1' },
      });
      const res = await rawRequest(url, { method: 'POST', path: '/transfers', headers, body: TRANSFER });
      expect(res.status).toBe(401);
      expect(reasonOf(res)).toBe('signature_incomplete');
    });
  });
});

@Controller({ path: 'accounts', host: 'api.bank.local' })
class AccountsController {
  @Post()
  @HttpCode(201)
  @TrustedCaller('order-service')
  open() {
    return { opened: 'account' };
  }
}

@Controller({ path: 'accounts', host: 'admin.bank.local' })
class AdminAccountsController {
  @Post()
  @HttpCode(201)
  @TrustedCaller('order-service')
  open() {
    return { opened: 'admin account' };
  }
}

@Module({
  imports: [ServiceAuthModule.forRoot({ serviceId: 'bank-service', keys: callers })],
  controllers: [AccountsController, AdminAccountsController],
})
class HostScopedBankModule {}

// Express only: Fastify registers one route per method and path, so two controllers that differ only
// by host cannot both be registered there.
describe('host-scoped controllers: @authority is signed (express)', () => {
  let app: INestApplication;
  let url: string;
  beforeAll(async () => {
    ({ app, url } = await start(HostScopedBankModule, 'express'));
  });
  afterAll(async () => {
    await app?.close();
  });

  const signedFor = (host: string) => {
    const headers = signedHeaders(
      `http://${host}`,
      signing,
      { method: 'POST', path: '/accounts', body: '{}' },
      { components: ['@authority'] },
    );
    return { ...headers, host };
  };

  it('runs the controller of the host signed', async () => {
    const res = await rawRequest(url, { method: 'POST', path: '/accounts', headers: signedFor('api.bank.local'), body: '{}' });
    expect(res.status).toBe(201);
    expect(res.json).toEqual({ opened: 'account' });
  });

  it('refuses a request signed for api.bank.local and sent with Host: admin.bank.local', async () => {
    const headers = { ...signedFor('api.bank.local'), host: 'admin.bank.local' };
    const res = await rawRequest(url, { method: 'POST', path: '/accounts', headers, body: '{}' });
    expect(res.status).toBe(401);
    expect(reasonOf(res)).toBe('signature_invalid');
  });

  it('refuses a signature that does not cover @authority', async () => {
    const headers = { ...signedHeadersForTarget(signing, { method: 'POST', target: '/accounts', body: '{}' }), host: 'admin.bank.local' };
    const res = await rawRequest(url, { method: 'POST', path: '/accounts', headers, body: '{}' });
    expect(res.status).toBe(401);
    expect(reasonOf(res)).toBe('signature_incomplete');
  });
});

/** A request as a custom version extractor receives it (Express' request, or Node's under Fastify). */
interface ExtractorRequest {
  url: string;
  headers: Record<string, string | undefined>;
}

/**
 * Custom extractors whose reads a look at start-up cannot see: which headers they read is known only
 * per request, as Nest calls them, and the signature must cover what they read on that request.
 */
const hiddenReads: Array<[string, (req: ExtractorRequest) => string, 'by name' | 'all']> = [
  [
    'reads the version header for some URLs only',
    (req) => (req.url.startsWith('/transfers') ? (req.headers['x-api-version'] ?? '1') : '1'),
    'by name',
  ],
  ['iterates the headers', (req) => Object.entries(req.headers).find(([name]) => name === 'x-api-version')?.[1] ?? '1', 'all'],
  ['copies the headers first', (req) => ({ ...req.headers })['x-api-version'] ?? '1', 'all'],
];

describe.each(['express', 'fastify'] as const)('a custom version extractor is bound by what it reads per request (%s)', (adapter) => {
  describe.each(hiddenReads)('an extractor that %s', (_shape, extractor, reads) => {
    let app: INestApplication;
    let url: string;
    beforeAll(async () => {
      ({ app, url } = await start(VersionedBankModule, adapter, {
        type: VersioningType.CUSTOM,
        extractor: extractor as (req: unknown) => string,
      }));
    });
    afterAll(async () => {
      await app?.close();
    });

    const signed = (version: string, components?: string[]) =>
      signedHeaders(
        url,
        signing,
        { method: 'POST', path: '/transfers', body: TRANSFER, headers: { 'x-api-version': version } },
        components && { components },
      );

    it('refuses a request signed with X-API-Version: 2 (not covered) and sent with 1: 401 signature_incomplete, no handler runs', async () => {
      const res = await rawRequest(url, {
        method: 'POST',
        path: '/transfers',
        headers: { ...signed('2'), 'x-api-version': '1' },
        body: TRANSFER,
      });
      expect(res.status).toBe(401);
      expect(reasonOf(res)).toBe('signature_incomplete');
    });

    if (reads === 'by name') {
      it('names the header it read, and runs the handler of the version signed when the signature covers it', async () => {
        const uncovered = await rawRequest(url, { method: 'POST', path: '/transfers', headers: signed('1'), body: TRANSFER });
        expect(uncovered.status).toBe(401);
        expect(uncovered.json).toMatchObject({ reason: 'signature_incomplete', message: expect.stringContaining('"x-api-version"') });
        const v2 = await rawRequest(url, { method: 'POST', path: '/transfers', headers: signed('2', ['x-api-version']), body: TRANSFER });
        expect(v2.status).toBe(422);
        const rerouted = await rawRequest(url, {
          method: 'POST',
          path: '/transfers',
          headers: { ...signed('2', ['x-api-version']), 'x-api-version': '1' },
          body: TRANSFER,
        });
        expect(rerouted.status).toBe(401);
        expect(reasonOf(rerouted)).toBe('signature_invalid');
      });
    } else {
      it('refuses every request, however it is signed: an enumeration reads headers no signature can cover', async () => {
        const res = await rawRequest(url, { method: 'POST', path: '/transfers', headers: signed('2', ['x-api-version']), body: TRANSFER });
        expect(res.status).toBe(401);
        expect(res.json).toMatchObject({ reason: 'signature_incomplete', message: expect.stringContaining('every header') });
      });
    }
  });
});

@Controller({ path: 'vaults', host: 'admin.bank.local' })
class AdminVaultsController {
  @Post()
  @HttpCode(201)
  @TrustedCaller('order-service')
  open() {
    return { opened: 'admin vault' };
  }
}

@Module({
  imports: [ServiceAuthModule.forRoot({ serviceId: 'bank-service', keys: callers })],
  controllers: [AdminVaultsController],
})
class AdminHostBankModule {}

describe.each([
  ['express', HostScopedBankModule, '/accounts', 'admin account'],
  ['fastify', AdminHostBankModule, '/vaults', 'admin vault'],
] as const)('host-scoped controllers behind a trusted proxy: X-Forwarded-Host does not reroute (%s)', (adapter, module, path, opened) => {
  let app: INestApplication;
  let url: string;
  beforeAll(async () => {
    ({ app, url } = await start(module, adapter, undefined, { trustProxy: true }));
  });
  afterAll(async () => {
    await app?.close();
  });

  const signedFor = (host: string) => ({
    ...signedHeaders(`http://${host}`, signing, { method: 'POST', path, body: '{}' }, { components: ['@authority'] }),
    host,
  });

  it('refuses a request signed for api.bank.local that names admin.bank.local in X-Forwarded-Host: 400 request_target_invalid', async () => {
    const headers = { ...signedFor('api.bank.local'), 'x-forwarded-host': 'admin.bank.local' };
    const res = await rawRequest(url, { method: 'POST', path, headers, body: '{}' });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ reason: 'request_target_invalid', message: expect.stringContaining('host') });
  });

  it('serves a request whose X-Forwarded-Host names the host signed', async () => {
    const headers = { ...signedFor('admin.bank.local'), 'x-forwarded-host': 'admin.bank.local' };
    const res = await rawRequest(url, { method: 'POST', path, headers, body: '{}' });
    expect(res.status).toBe(201);
    expect(res.json).toEqual({ opened });
  });
});
