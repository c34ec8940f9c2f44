import { Injectable, type INestApplication, type VersioningOptions } from '@nestjs/common';

/** The options of `app.setGlobalPrefix` (its `exclude` list), which Nest does not export by name. */
export type GlobalPrefixOptions = NonNullable<Parameters<INestApplication['setGlobalPrefix']>[1]>;

/** The global prefix Nest routes under, as given to ServiceAuthModule.setup. */
export interface RecordedGlobalPrefix {
  readonly prefix: string;
  readonly options?: GlobalPrefixOptions;
}

/**
 * The routing configuration Nest routes this application by, as ServiceAuthModule.setup applied it
 * (`app.setGlobalPrefix`, `app.enableVersioning`) and recorded it. Nest has no public getter for
 * either, so whatever in the library must route as Nest does (the table of protected routes of the
 * early stranger check; the verifier's rule that the inputs selecting a handler are signed) reads it
 * here, never from the app.
 *
 * Readable once setup() has run (in `main.ts`, before `listen()`/`init()`), so from any provider's
 * `onModuleInit`/`onApplicationBootstrap` on. Both stay `undefined` when setup() was not given them,
 * or was not called: then the application neither prefixes nor versions its routes through setup.
 */
@Injectable()
export class HttpRoutingConfig {
  #versioning?: VersioningOptions;
  #globalPrefix?: RecordedGlobalPrefix;
  #setUp = false;

  /** The versioning Nest selects handlers by (URI, header, media type or custom), or undefined when routes are not versioned. */
  get versioning(): VersioningOptions | undefined {
    return this.#versioning;
  }

  /** The global prefix and its options (the `exclude` list), or undefined when there is none. */
  get globalPrefix(): RecordedGlobalPrefix | undefined {
    return this.#globalPrefix;
  }

  /** Whether ServiceAuthModule.setup has run for this application. */
  get isSetUp(): boolean {
    return this.#setUp;
  }

  /** Called once, by ServiceAuthModule.setup. */
  record(config: { versioning?: VersioningOptions; globalPrefix?: RecordedGlobalPrefix }): void {
    if (this.#setUp) throw new Error('ServiceAuthModule.setup has already been called for this application');
    this.#setUp = true;
    this.#versioning = config.versioning;
    this.#globalPrefix = config.globalPrefix;
  }
}
