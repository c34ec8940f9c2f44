/**
 * `guard: 'manual'`: the module provides ServiceAuthGuard and the application applies it, in each of the
 * documented forms (`@UseGuards(ServiceAuthGuard)`, a subclass registered as APP_GUARD, a guard of the
 * app's own that delegates to the injected ServiceAuthGuard). Each form starts, verifies the routes it
 * guards, and leaves the app's other routes to the app: the early stranger check of
 * ServiceAuthModule.setup refuses nothing on a route no ServiceAuthGuard protects.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  Body,
  Controller,
  HttpCode,
  Injectable,
  Module,
  Post,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
  type INestApplication,
  type Type,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Caller, PublicRoute, ServiceAuthGuard, ServiceAuthModule, type VerifiedCaller } from 'nest-service-auth';
import { createServiceApp } from 'service-app';
import { newCredential } from './support/credentials.js';
import { listenUrl, type Adapter } from './support/demo-services.js';
import { rawRequest, reasonOf, signedHeaders, signingCredential, type RawResponse } from './support/raw-http.js';

const caller = newCredential('order-1');
const serviceAuth = ServiceAuthModule.forRoot({
  serviceId: 'ledger-service',
  guard: 'manual',
  keys: { callers: [{ id: 'order-service', keys: [caller] }] },
});

/** Routes of the app's own, with no ServiceAuthGuard: a webhook with its own signature scheme, say. */
@Controller('webhooks')
class WebhookController {
  @Post('stripe')
  @HttpCode(200)
  stripe(@Body() body: unknown) {
    return { received: body };
  }
}

@Controller('internal')
@UseGuards(ServiceAuthGuard)
class GuardedController {
  @Post()
  @HttpCode(200)
  create(@Caller() c: VerifiedCaller) {
    return { by: c.id };
  }
}

@Module({ imports: [serviceAuth], controllers: [GuardedController, WebhookController] })
class UseGuardsModule {}

@Injectable()
class AppServiceAuthGuard extends ServiceAuthGuard {}

@Controller('internal')
class InternalController {
  @Post()
  @HttpCode(200)
  create(@Caller() c: VerifiedCaller) {
    return { by: c.id };
  }
}

/** Under an APP_GUARD subclass every route is guarded: the app's own routes are @PublicRoute(). */
@Controller('webhooks')
@PublicRoute()
class PublicWebhookController extends WebhookController {}

@Module({
  imports: [serviceAuth],
  controllers: [InternalController, PublicWebhookController],
  providers: [{ provide: APP_GUARD, useClass: AppServiceAuthGuard }],
})
class AppGuardSubclassModule {}

/** A guard of the app's own that delegates to the module's guard instance. */
@Injectable()
class SignedCallersOnly implements CanActivate {
  constructor(private readonly guard: ServiceAuthGuard) {}
  canActivate(context: ExecutionContext): Promise<boolean> {
    return this.guard.canActivate(context);
  }
}

@Controller('internal')
@UseGuards(SignedCallersOnly)
class DelegatingController extends InternalController {}

@Module({ imports: [serviceAuth], controllers: [DelegatingController, WebhookController], providers: [SignedCallersOnly] })
class DelegatingModule {}

const FORMS: Array<[string, Type]> = [
  ['@UseGuards(ServiceAuthGuard)', UseGuardsModule],
  ['a ServiceAuthGuard subclass as APP_GUARD', AppGuardSubclassModule],
  ['a guard of the app delegating to ServiceAuthGuard', DelegatingModule],
];

describe.each(FORMS.flatMap(([name, module]) => (['express', 'fastify'] as const).map((adapter) => [name, module, adapter] as const)))(
  "guard: 'manual' with %s (%s)",
  (_name, module, adapter: Adapter) => {
    let app: INestApplication;
    let url: string;
    beforeAll(async () => {
      app = await createServiceApp(module, { adapter, logger: false });
      url = await listenUrl(app);
    });
    afterAll(() => app?.close());

    function post(path: string, headers: Record<string, string>, body?: string): Promise<RawResponse> {
      return rawRequest(url, { method: 'POST', path, headers, ...(body === undefined ? {} : { body }) });
    }

    it('starts, and accepts a signed caller on the guarded route', async () => {
      const body = '{"amount":1}';
      const headers = signedHeaders(url, signingCredential(caller, { audience: 'ledger-service' }), {
        method: 'POST',
        path: '/internal',
        body,
      });
      const res = await post('/internal', headers, body);
      expect([res.status, res.json]).toEqual([200, { by: 'order-service' }]);
    });

    it('refuses an unsigned request with a body on the guarded route', async () => {
      const res = await post('/internal', { 'content-type': 'application/json' }, '{"amount":1}');
      expect([res.status, reasonOf(res)]).toEqual([401, 'api_key_missing']);
    });

    it('leaves a route it does not guard to the app: an unsigned JSON POST reaches the handler', async () => {
      const withBody = await post('/webhooks/stripe', { 'content-type': 'application/json' }, '{"id":"evt_1"}');
      expect([withBody.status, withBody.json]).toEqual([200, { received: { id: 'evt_1' } }]);
      const bodyless = await post('/webhooks/stripe', {});
      expect(bodyless.status).toBe(200);
    });
  },
);
