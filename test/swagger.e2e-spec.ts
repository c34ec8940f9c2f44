/**
 * applyServiceAuthToSwagger on a document @nestjs/swagger builds from a real application: the
 * security schemes declared, a requirement on every operation of a route that needs a caller (with
 * the global prefix ServiceAuthModule.setup applied), none on public ones; the document served by
 * SwaggerModule as the application answers, and the routes still refusing unsigned requests.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { Body, Controller, Delete, Get, Module, Param, Post, type INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { PublicRoute, ServiceAuthModule, TrustedCaller } from 'nest-service-auth';
import { applyServiceAuthToSwagger, SERVICE_AUTH_SECURITY } from 'nest-service-auth/swagger';
import { createServiceApp } from 'service-app';
import { newCredential } from './support/credentials.js';
import { listenUrl, type Adapter } from './support/demo-services.js';
import { rawRequest, reasonOf } from './support/raw-http.js';

const ADAPTERS: Adapter[] = ['express', 'fastify'];

@Controller('inventory')
class InventoryController {
  @Get(':productId')
  @TrustedCaller('order-service')
  find(@Param('productId') productId: string) {
    return { productId };
  }

  @Post()
  @TrustedCaller('order-service')
  reserve(@Body() body: unknown) {
    return body;
  }
}

@Controller('health')
@PublicRoute()
class HealthController {
  @Get()
  health() {
    return { status: 'ok' };
  }
}

@Controller('status')
class StatusController {
  @Get()
  @PublicRoute()
  status() {
    return { status: 'ok' };
  }

  @Delete()
  @TrustedCaller('order-service')
  reset() {
    return {};
  }
}

@Module({
  imports: [
    ServiceAuthModule.forRoot({
      serviceId: 'inventory-service',
      keys: { callers: [{ id: 'order-service', keys: [newCredential('order-2026-11')] }] },
    }),
  ],
  controllers: [InventoryController, HealthController, StatusController],
})
class AppModule {}

const REQUIREMENT = { [SERVICE_AUTH_SECURITY.apiKey]: [], [SERVICE_AUTH_SECURITY.signature]: [] };

describe.each(ADAPTERS)('applyServiceAuthToSwagger (%s)', (adapter) => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('declares the schemes, requires them on the guarded operations only, and serves the document; Try it out is said not to sign', async () => {
    app = await createServiceApp(AppModule, { adapter, logger: false, serviceAuth: { globalPrefix: 'api' } });
    // Before listen(), as main.ts builds it.
    const document: OpenAPIObject = SwaggerModule.createDocument(app, new DocumentBuilder().setTitle('inventory').build());
    expect(applyServiceAuthToSwagger(app, document)).toBe(document);

    const schemes = document.components?.securitySchemes ?? {};
    expect(schemes[SERVICE_AUTH_SECURITY.apiKey]).toMatchObject({ type: 'apiKey', in: 'header', name: 'X-API-Key' });
    expect(schemes[SERVICE_AUTH_SECURITY.signature]).toMatchObject({ type: 'apiKey', in: 'header', name: 'Signature' });
    expect((schemes[SERVICE_AUTH_SECURITY.signature] as { description: string }).description).toContain('"Try it out" cannot');

    const security = (path: string, method: 'get' | 'post' | 'delete') =>
      (document.paths[path] as Record<string, { security?: unknown }>)[method]?.security;
    expect(security('/api/inventory/{productId}', 'get')).toEqual([REQUIREMENT]);
    expect(security('/api/inventory', 'post')).toEqual([REQUIREMENT]);
    expect(security('/api/status', 'delete')).toEqual([REQUIREMENT]);
    expect(security('/api/status', 'get')).toBeUndefined();
    expect(security('/api/health', 'get')).toBeUndefined();
    expect(Object.keys(document.paths['/api/inventory']?.post?.responses ?? {})).toEqual(expect.arrayContaining(['401', '403']));

    SwaggerModule.setup('docs', app, document, { swaggerUiEnabled: false });
    const url = await listenUrl(app);
    const served = await rawRequest(url, { method: 'GET', path: '/docs-json' });
    expect(served.status).toBe(200);
    expect((served.json as OpenAPIObject).paths['/api/inventory/{productId}'].get?.security).toEqual([REQUIREMENT]);
    // The documentation changes nothing of the verification.
    const unsigned = await rawRequest(url, { method: 'GET', path: '/api/inventory/P1' });
    expect([unsigned.status, reasonOf(unsigned)]).toEqual([401, 'api_key_missing']);
  });

  it('an application without ServiceAuthModule is told so', async () => {
    @Module({ controllers: [HealthController] })
    class PlainModule {}
    app = await createServiceApp(PlainModule, { adapter, logger: false, serviceAuth: false });
    const document = SwaggerModule.createDocument(app, new DocumentBuilder().build());
    expect(() => applyServiceAuthToSwagger(app!, document)).toThrow(/does not import ServiceAuthModule/);
  });
});
