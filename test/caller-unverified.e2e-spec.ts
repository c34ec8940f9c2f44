import { afterEach, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { Caller, ServiceAuthModule, type VerifiedCaller } from 'nest-service-auth';
import { newCredential } from './support/credentials.js';
import { listenUrl } from './support/demo-services.js';
import { rawRequest, reasonOf } from './support/raw-http.js';
import { createServiceApp } from 'service-app';

const billing = newCredential('billing-2026-11');

@Controller('whoami')
class WhoAmIController {
  @Get()
  whoami(@Caller() caller: VerifiedCaller) {
    return { caller: caller.id };
  }
}

/** guard: 'manual' and the guard never bound: nothing verifies the request in front of the handler. */
@Module({
  imports: [
    ServiceAuthModule.forRoot({
      serviceId: 'ledger-service',
      guard: 'manual',
      keys: { callers: [{ id: 'billing-service', keys: [billing] }] },
    }),
  ],
  controllers: [WhoAmIController],
})
class UnguardedModule {}

/** @Caller() never hands a handler `undefined`: a request that reached it unverified is refused. */
describe.each(['express', 'fastify'] as const)('@Caller() without a verified caller (%s)', (adapter) => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('refuses the request with 401 caller_unverified instead of running the handler with no caller', async () => {
    app = await createServiceApp(UnguardedModule, { adapter, logger: false });
    const url = await listenUrl(app);
    const res = await rawRequest(url, { method: 'GET', path: '/whoami' });
    expect([res.status, reasonOf(res)]).toEqual([401, 'caller_unverified']);
  });
});
