import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { ServiceAuthModuleOptions } from './service-auth-options.interface.js';

export const {
  ConfigurableModuleClass: ServiceAuthConfigurableModule,
  MODULE_OPTIONS_TOKEN: SERVICE_AUTH_OPTIONS,
  OPTIONS_TYPE: SERVICE_AUTH_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: SERVICE_AUTH_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ServiceAuthModuleOptions>({ moduleName: 'ServiceAuth' })
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
