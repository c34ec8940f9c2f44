/**
 * A minimal protected service for the library's own end-to-end tests: routes that trust given callers
 * and echo who called or what was sent, and public ones. Started in this process on a free port.
 */
import {
  Controller,
  Get,
  HttpCode,
  Module,
  Post,
  Body,
  type DynamicModule,
  type INestApplication,
  type LoggerService,
} from '@nestjs/common';
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
import { createServiceApp, type ServiceAppOptions } from 'service-app';

export interface CalleeApp {
  app: INestApplication;
  url: string;
  close(): Promise<void>;
}

/** How the app is created (createServiceApp's options); silent unless given a logger. */
export type CalleeAppOptions = Pick<ServiceAppOptions, 'express' | 'maxBodyBytes'> & { logger?: LoggerService };

/**
 * Starts a service whose `GET /whoami`, `POST /echo` and `POST /entries` (200, `{ received }`) trust
 * `trusted`; `GET /health` and `POST /webhook` (200, `{ received }`) are public.
 */
export async function startCallee(
  adapter: Adapter,
  options: ServiceAuthModuleOptions,
  trusted: string[],
  { logger, express, maxBodyBytes }: CalleeAppOptions = {},
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

    @Post('entries')
    @HttpCode(200)
    @TrustedCaller(...trusted)
    add(@Body() body: unknown) {
      return { received: body };
    }

    @Get('health')
    @PublicRoute()
    health() {
      return { status: 'ok' };
    }

    @Post('webhook')
    @HttpCode(200)
    @PublicRoute()
    webhook(@Body() body: unknown) {
      return { received: body };
    }
  }

  @Module({})
  class CalleeModule {
    static forRoot(): DynamicModule {
      return { module: CalleeModule, imports: [ServiceAuthModule.forRoot(options)], controllers: [CalleeController] };
    }
  }

  const app = await createServiceApp(CalleeModule.forRoot(), { adapter, logger: logger ?? false, express, maxBodyBytes });
  const url = await listenUrl(app);
  return { app, url, close: () => app.close() };
}
