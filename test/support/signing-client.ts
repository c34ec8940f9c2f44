import { Test, type TestingModule } from '@nestjs/testing';
import { SignedHttpModule, type SignedHttpModuleOptions } from 'nest-service-auth/client';

/**
 * A pure caller, as order-service is: SignedHttpModule.register(options) alone, in an initialised
 * testing module. `get(SignedHttpService)` is the client; close() it after the test.
 */
export async function signingClientModule(options: SignedHttpModuleOptions): Promise<TestingModule> {
  const moduleRef = await Test.createTestingModule({ imports: [SignedHttpModule.register(options)] }).compile();
  await moduleRef.init();
  return moduleRef;
}
