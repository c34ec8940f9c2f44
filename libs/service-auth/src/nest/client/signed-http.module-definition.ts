import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { SignedHttpModuleOptions } from '../../client/signed-http-options.js';

export const {
  ConfigurableModuleClass: SignedHttpConfigurableModule,
  MODULE_OPTIONS_TOKEN: SIGNED_HTTP_OPTIONS,
  OPTIONS_TYPE: SIGNED_HTTP_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: SIGNED_HTTP_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<SignedHttpModuleOptions>({ moduleName: 'SignedHttp' }).setClassMethodName('register').build();
