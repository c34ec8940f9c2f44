import { VersioningType, type INestApplication, type VersioningOptions } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ResolvedServiceAuthOptions } from '../options/resolved-options.js';
import { RESOLVED_OPTIONS } from '../options/service-auth.constants.js';
import type { ServiceAuthRequest } from '../adapters/service-auth-request.js';
import { useExpressBodyParsers, type ExpressParsersApp } from './express-body-parsers.js';
import { useFastifyBodyParsers, type FastifyParsersApp, type FastifyParsersInstance } from './fastify-body-parsers.js';
import { HttpRoutingConfig, type GlobalPrefixOptions } from '../options/http-routing-config.js';
import { StrangersRefusedBeforeBody } from './strangers-refused-before-body.js';
import { recordingVersionExtractor } from './recording-version-extractor.js';
import { expressRoutedPath, fastifyRoutedPath } from './routed-path.js';

/** What ServiceAuthModule.setup applies to the application, and records for the library. */
export interface ServiceAuthSetupOptions {
  /** Given to `app.setGlobalPrefix`: a prefix, or a prefix and its options (the `exclude` list). */
  globalPrefix?: string | [string, GlobalPrefixOptions];
  /** Given to `app.enableVersioning`. Pass it here rather than calling enableVersioning yourself. */
  versioning?: VersioningOptions;
}

/** The Fastify instance as the early check uses it (fastify is the app's dependency, described here). */
interface FastifyHooks {
  addHook(name: 'onRequest', hook: (request: ServiceAuthRequest, reply: unknown, done: (err?: Error) => void) => void): unknown;
}

/**
 * ServiceAuthModule.setup: see its doc comment. Must run before `app.listen()`/`app.init()`, where
 * Nest registers its default body parsers, the module middleware and the routes: what is `app.use`d
 * here runs before all of them.
 */
export function setupServiceAuth(app: INestApplication, options: ServiceAuthSetupOptions = {}): void {
  let routing: HttpRoutingConfig;
  try {
    routing = app.get(HttpRoutingConfig, { strict: false });
  } catch {
    throw new Error(
      'ServiceAuthModule.setup: ServiceAuthModule is not imported by this application (import ServiceAuthModule.forRoot first)',
    );
  }
  const globalPrefix =
    options.globalPrefix === undefined
      ? undefined
      : typeof options.globalPrefix === 'string'
        ? { prefix: options.globalPrefix }
        : { prefix: options.globalPrefix[0], options: options.globalPrefix[1] };
  routing.record({ versioning: options.versioning, globalPrefix });
  if (globalPrefix) app.setGlobalPrefix(globalPrefix.prefix, globalPrefix.options);
  if (options.versioning) app.enableVersioning(withRecordingExtractor(options.versioning));

  const resolved = app.get<string, ResolvedServiceAuthOptions>(RESOLVED_OPTIONS, { strict: false });
  const strangers = app.get(StrangersRefusedBeforeBody, { strict: false });
  const adapter = app.getHttpAdapter();
  const type = adapter.getType();
  if (type === 'express') {
    if (strangers.enabled) {
      app.use((req: IncomingMessage, _res: ServerResponse, next: (err?: unknown) => void) =>
        next(strangers.refusalOf(req, expressRoutedPath)),
      );
    }
    useExpressBodyParsers(app as unknown as ExpressParsersApp, resolved.maxBodyBytes);
  } else if (type === 'fastify') {
    const instance = adapter.getInstance() as FastifyHooks & FastifyParsersInstance;
    if (strangers.enabled) instance.addHook('onRequest', (request, _reply, done) => done(strangers.refusalOf(request, fastifyRoutedPath)));
    useFastifyBodyParsers(app as unknown as FastifyParsersApp, instance, resolved.maxBodyBytes);
  } else {
    throw new Error(`ServiceAuthModule.setup: the ${type} HTTP adapter is not supported (Express or Fastify)`);
  }
}

/**
 * The versioning Nest is given: a custom extractor is wrapped to record, per request, the headers it
 * reads, which the guard then requires the signature to cover (see recordingVersionExtractor).
 */
function withRecordingExtractor(versioning: VersioningOptions): VersioningOptions {
  if (versioning.type !== VersioningType.CUSTOM) return versioning;
  return { ...versioning, extractor: recordingVersionExtractor(versioning.extractor) };
}
