/**
 * A minimal protected service for the library's own end-to-end tests: one route that trusts given
 * callers and echoes who called, one public route. Started in this process on a free port.
 */
import { Controller, Get, Module, Post, Body, type DynamicModule, type INestApplication, type LoggerService } from '@nestjs/common';
import {
  Caller,
  PublicRoute,
  ServiceAuthModule,
  TrustedCaller,
  type ServiceAuthModuleOptions,
  type VerifiedCaller,
} from 'nest-service-auth';
import type { Adapter } from './demo-services.js';
import { listenUrl } from './demo-services.js';
import { createServiceApp } from 'service-app';

export interface CalleeApp {
  app: INestApplication;
  url: string;
  close(): Promise<void>;
}

/** Starts a service whose `GET /whoami` and `POST /echo` trust `trusted`; `GET /health` is public. Silent unless given a logger. */
export async function startCallee(
  adapter: Adapter,
  options: ServiceAuthModuleOptions,
  trusted: string[],
  { logger }: { logger?: LoggerService } = {},
): Promise<CalleeApp> {
  @Controller()
  class CalleeController {
    @Get('whoami')
    @TrustedCaller(...trusted)
    whoami(@Caller() caller: VerifiedCaller) {
      return { caller: caller.id, keyId: caller.keyId };
    }

    @Post('echo')
    @TrustedCaller(...trusted)
    echo(@Caller() caller: VerifiedCaller, @Body() body: unknown) {
      return { caller: caller.id, body };
    }

    @Get('health')
    @PublicRoute()
    health() {
      return { status: 'ok' };
    }
  }

  @Module({})
  class CalleeModule {
    static forRoot(): DynamicModule {
      return { module: CalleeModule, imports: [ServiceAuthModule.forRoot(options)], controllers: [CalleeController] };
    }
  }

  const app = await createServiceApp(CalleeModule.forRoot(), { adapter, logger: logger ?? false });
  const url = await listenUrl(app);
  return { app, url, close: () => app.close() };
}
