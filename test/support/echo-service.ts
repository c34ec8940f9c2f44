/**
 * A tiny verified service for hostile-input end-to-end tests: its handlers answer with exactly what
 * the router and the framework handed them (route parameters, parsed query, the URL the router read,
 * the parsed body), so a test can compare that with what the caller signed.
 */
import {
  Body,
  Controller,
  Get,
  Injectable,
  Module,
  Param,
  Post,
  Query,
  Req,
  type DynamicModule,
  type INestApplication,
} from '@nestjs/common';
import type { FastifyAdapter } from '@nestjs/platform-fastify';
import express from 'express';
import { createServer, type Server } from 'node:http';
import { PublicRoute, ServiceAuthModule, type ServiceAuthModuleOptions } from 'nest-service-auth';
import type { HmacSigningCredential } from 'nest-service-auth/core';
import { newCredential, type TestCredential } from './credentials.js';
import type { Adapter } from './demo-services.js';
import { listenUrl } from './demo-services.js';
import { signingCredential } from './raw-http.js';
import { createServiceApp } from 'service-app';

export const ECHO_SERVICE_ID = 'echo-service';
export const ECHO_CALLER_ID = 'order-service';

/** The one place where the echo service's module options are built from its caller's credential. */
export function echoServiceOptions(caller: TestCredential): ServiceAuthModuleOptions {
  return { serviceId: ECHO_SERVICE_ID, keys: { callers: [{ id: ECHO_CALLER_ID, keys: [caller] }] } };
}

/** Counts handler invocations: a refused request must never reach one. */
@Injectable()
export class HandlerCalls {
  count = 0;
}

/** Express's request (Node's) or Fastify's (Node's in `.raw`): the URL the router matched against. */
interface RoutedRequest {
  raw?: { url?: string };
  url?: string;
}
const routedUrl = (req: RoutedRequest) => (req.raw ?? req).url;

@Controller('echo')
class EchoController {
  constructor(private readonly calls: HandlerCalls) {}

  @Get(':id')
  one(@Param('id') id: string, @Query() query: unknown, @Req() req: RoutedRequest) {
    this.calls.count++;
    return { handler: 'echo', id, query, url: routedUrl(req) };
  }

  @Get(':id/sub')
  sub(@Param('id') id: string, @Query() query: unknown, @Req() req: RoutedRequest) {
    this.calls.count++;
    return { handler: 'echo-sub', id, query, url: routedUrl(req) };
  }

  @Post()
  body(@Body() body: unknown, @Req() req: RoutedRequest) {
    this.calls.count++;
    return { handler: 'echo-body', body, url: routedUrl(req) };
  }
}

/** A wildcard route: the only kind a target with empty or dot segments can reach. */
@Controller('files')
class FilesController {
  constructor(private readonly calls: HandlerCalls) {}

  @Get('*')
  file(@Param() params: unknown, @Req() req: RoutedRequest) {
    this.calls.count++;
    return { handler: 'files', params, url: routedUrl(req) };
  }
}

@Controller('public')
@PublicRoute()
class PublicController {
  constructor(private readonly calls: HandlerCalls) {}

  @Post()
  body(@Body() body: unknown) {
    this.calls.count++;
    return { handler: 'public-body', body };
  }
}

@Module({})
class EchoModule {
  static register(options: ServiceAuthModuleOptions): DynamicModule {
    return {
      module: EchoModule,
      imports: [ServiceAuthModule.forRoot(options)],
      controllers: [EchoController, FilesController, PublicController],
      providers: [HandlerCalls],
    };
  }
}

export interface EchoServiceOptions {
  /** Fastify server options (routing normalisation a user may turn on, rewriteUrl, …). */
  fastify?: ConstructorParameters<typeof FastifyAdapter>[0];
  /** Express: runs on the Express instance before Nest adds its body parsers and routes. */
  express?: (app: express.Express) => void;
  /** Express: serve the Nest application mounted under this path of an outer Express app. */
  mountPath?: string;
}

export interface EchoService {
  url: string;
  caller: HmacSigningCredential;
  credential: TestCredential;
  /** What no response may contain: the caller's API key, secret and HMAC key; tests add the signatures they send. */
  secrets: string[];
  calls: HandlerCalls;
  close(): Promise<void>;
}

/** Starts the echo service on `adapter`, listening on a free port of 127.0.0.1. */
export async function startEchoService(adapter: Adapter, options: EchoServiceOptions = {}): Promise<EchoService> {
  const credential = newCredential('order-2026-11');
  const module = EchoModule.register(echoServiceOptions(credential));
  let app: INestApplication;
  let url: string;
  let outer: Server | undefined;
  if (adapter === 'fastify') {
    app = await createServiceApp(module, { adapter, logger: false, fastify: options.fastify });
    url = await listenUrl(app);
  } else {
    const instance = express();
    options.express?.(instance);
    app = await createServiceApp(module, {
      adapter,
      logger: false,
      express: instance,
    });
    if (options.mountPath) {
      await app.init();
      const root = express();
      root.use(options.mountPath, instance);
      outer = createServer(root);
      await new Promise<void>((resolve) => outer!.listen(0, '127.0.0.1', resolve));
      const address = outer.address();
      url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    } else {
      url = await listenUrl(app);
    }
  }
  const caller = signingCredential(credential, { audience: ECHO_SERVICE_ID });
  const hmacKey = Buffer.from(caller.hmacKey);
  return {
    url,
    caller,
    credential,
    secrets: [credential.apiKey, credential.secret, hmacKey.toString('base64'), hmacKey.toString('base64url')],
    calls: app.get(HandlerCalls),
    async close() {
      if (outer) await new Promise<void>((resolve) => outer.close(() => resolve()));
      await app.close();
    },
  };
}
