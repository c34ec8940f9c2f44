import { Test, type TestingModule } from '@nestjs/testing';
import { ServiceAuthModule, type ServiceAuthModuleOptions } from 'nest-service-auth';
import { SignedHttpModule } from 'nest-service-auth/client';

/**
 * A pure caller, as order-service is: ServiceAuthModule with `guard: 'none'` (unless the options say
 * otherwise) and SignedHttpModule, in an initialised testing module. `get(SignedHttpService)` is the
 * client; close() it after the test.
 */
export async function signingClientModule(options: ServiceAuthModuleOptions): Promise<TestingModule> {
  const moduleRef = await Test.createTestingModule({
    imports: [ServiceAuthModule.forRoot({ guard: 'none', ...options }), SignedHttpModule],
  }).compile();
  await moduleRef.init();
  return moduleRef;
}
