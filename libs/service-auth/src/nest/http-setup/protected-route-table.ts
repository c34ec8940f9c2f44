import { Inject, Injectable, RequestMethod, VERSION_NEUTRAL, VersioningType, type OnApplicationBootstrap } from '@nestjs/common';
import { GUARDS_METADATA, METHOD_METADATA, MODULE_PATH, PATH_METADATA, VERSION_METADATA } from '@nestjs/common/constants.js';
import { DiscoveryService, MetadataScanner, ModulesContainer, Reflector } from '@nestjs/core';
import { pathToRegexp } from 'path-to-regexp';
import { KeyConfigurationError } from '../../errors/key-configuration.error.js';
import { readHandlerAccess, type RouteTarget } from '../verification/route-access.js';
import { HttpRoutingConfig } from '../options/http-routing-config.js';
import type { ResolvedServiceAuthOptions } from '../options/resolved-options.js';
import { CALLER_PARAMETER_METADATA, RESOLVED_OPTIONS } from '../options/service-auth.constants.js';
import { ServiceAuthGuard } from '../verification/service-auth.guard.js';

/** One route as Nest serves it: its method (undefined: any) and declared path, compiled. */
interface TableRoute {
  readonly method: string | undefined;
  readonly pattern: string;
  readonly regexp: RegExp;
}

/** A version as Nest's @Version() / @Controller({ version }) declare it. */
type DeclaredVersion = string | typeof VERSION_NEUTRAL | Array<string | typeof VERSION_NEUTRAL>;

/**
 * The table of the routes that need a caller, for the early stranger check. Computed once, at
 * bootstrap, from the discovered controllers: the same paths Nest builds (global prefix and its
 * exclusions, URI version, RouterModule module path, controller path, handler path) and the same
 * route metadata the guard reads (readHandlerAccess: @PublicRoute(), @TrustedCaller()).
 *
 * Conservative by construction: a request is said to be on a protected route only when its method and
 * path match a protected route and no public one. Anything the table does not know (a route added to
 * the adapter by hand, a path it cannot compile) is not protected here; the guard still decides for
 * it. Host-scoped controllers are matched on their path alone, and paths case-insensitively with an
 * optional trailing slash (Express' defaults), so that a public route is never missed.
 *
 * Which routes need a caller depends on how the guard is installed. With `guard: 'global'`, every
 * route that is not @PublicRoute(). With `guard: 'manual'`, the app decides which routes the guard
 * runs on, and a route it does not guard (a webhook with its own scheme, say) must not be refused
 * here: so only the routes that say they need a caller, where that is readable at start-up, are
 * protected: those with ServiceAuthGuard (or a subclass) in their @UseGuards, and those declaring
 * @TrustedCaller or a @Caller() parameter. A route guarded by an APP_GUARD subclass or a guard of
 * the app's own, and declaring neither, is not in the table: the guard still refuses its strangers,
 * only after their body is read.
 *
 * Also refuses to start an application whose handlers declare a version when setup() was not given
 * the versioning: the library could neither route as Nest does nor bind the version to the signature.
 */
@Injectable()
export class ProtectedRouteTable implements OnApplicationBootstrap {
  private protectedRoutes: TableRoute[] = [];
  private publicRoutes: TableRoute[] = [];
  /** Methods with a public route the table could not compile: nothing on them is refused early. */
  private readonly openMethods = new Set<string | undefined>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly modules: ModulesContainer,
    private readonly routing: HttpRoutingConfig,
    @Inject(RESOLVED_OPTIONS) private readonly options: Pick<ResolvedServiceAuthOptions, 'guard'>,
  ) {}

  private computed = false;

  onApplicationBootstrap(): void {
    this.compute();
  }

  /**
   * Builds the table once: at bootstrap, or earlier when asked (an OpenAPI document is built before
   * `listen()`), from the controllers the container already holds and the routing setup() recorded.
   */
  private compute(): void {
    if (this.computed) return;
    this.computed = true;
    const routes = this.discoverRoutes();
    if (!this.routing.versioning) {
      const versioned = routes.find((r) => r.version !== undefined);
      if (versioned) {
        throw new KeyConfigurationError(
          `ServiceAuthModule: ${versioned.name} declares a version, but ServiceAuthModule.setup was not given the versioning. ` +
            'Pass the versioning options to ServiceAuthModule.setup(app, { versioning }) instead of calling app.enableVersioning, ' +
            'so that the library routes and verifies by the same versioning as Nest',
        );
      }
    }
    for (const route of routes) {
      for (const pattern of this.pathsOf(route)) {
        const compiled = compile(route.method, pattern);
        if (!route.needsCaller) {
          if (compiled) this.publicRoutes.push(compiled);
          else this.openMethods.add(route.method);
        } else if (compiled) this.protectedRoutes.push(compiled);
      }
    }
  }

  /**
   * The declared pattern of the protected route `method` and `path` (no query) match, or undefined
   * when they match none, or also match a public route (then the guard decides).
   */
  protectedRouteFor(method: string | undefined, path: string): string | undefined {
    this.compute();
    if (this.protectedRoutes.length === 0) return undefined;
    const upper = method?.toUpperCase();
    if (this.openMethods.has(undefined) || this.openMethods.has(upper)) return undefined;
    if (upper === 'HEAD' && this.openMethods.has('GET')) return undefined;
    let found: string | undefined;
    for (const route of this.protectedRoutes) {
      // A GET route also serves HEAD (both adapters answer HEAD with the GET handler).
      if ((routeServes(route, upper) || (upper === 'HEAD' && route.method === 'GET')) && route.regexp.test(path)) {
        found = route.pattern;
        break;
      }
    }
    if (found === undefined) return undefined;
    for (const route of this.publicRoutes) {
      // A public GET route also serves HEAD.
      if ((routeServes(route, upper) || (upper === 'HEAD' && route.method === 'GET')) && route.regexp.test(path)) return undefined;
    }
    return found;
  }

  private discoverRoutes(): DiscoveredRoute[] {
    const routes: DiscoveredRoute[] = [];
    for (const wrapper of this.discovery.getControllers()) {
      const controller = wrapper.metatype;
      if (typeof controller !== 'function' || !controller.prototype) continue;
      const modulePath = wrapper.host?.metatype ? this.modulePathOf(wrapper.host.metatype) : undefined;
      const controllerPaths = pathList(Reflect.getMetadata(PATH_METADATA, controller));
      const controllerVersion = Reflect.getMetadata(VERSION_METADATA, controller) as DeclaredVersion | undefined;
      const prototype = controller.prototype as Record<string, unknown>;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const handler = prototype[name];
        if (typeof handler !== 'function') continue;
        const methodPath = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
        if (methodPath === undefined) continue;
        const requestMethod = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        const access = readHandlerAccess(this.reflector, handler, controller);
        const needsCaller =
          !access.public &&
          (this.options.guard === 'global' ||
            access.callers !== undefined ||
            this.reflector.get<boolean | undefined>(CALLER_PARAMETER_METADATA, handler) === true ||
            this.guardedByServiceAuth(handler) ||
            this.guardedByServiceAuth(controller));
        routes.push({
          name: `${controller.name}.${name}`,
          method: requestMethod === undefined || requestMethod === RequestMethod.ALL ? undefined : RequestMethod[requestMethod],
          requestMethod: requestMethod ?? RequestMethod.GET,
          modulePath,
          controllerPaths,
          methodPaths: pathList(methodPath),
          version: (Reflect.getMetadata(VERSION_METADATA, handler) as DeclaredVersion | undefined) ?? controllerVersion,
          needsCaller,
        });
      }
    }
    return routes;
  }

  /** Whether @UseGuards on `target` lists ServiceAuthGuard, a subclass of it, or an instance of either. */
  private guardedByServiceAuth(target: RouteTarget): boolean {
    const guards = this.reflector.get<unknown[] | undefined>(GUARDS_METADATA, target) ?? [];
    return guards.some(
      (guard) =>
        guard instanceof ServiceAuthGuard ||
        (typeof guard === 'function' && (guard === ServiceAuthGuard || guard.prototype instanceof ServiceAuthGuard)),
    );
  }

  /** RouterModule's path for a module, as Nest's RoutesResolver reads it. */
  private modulePathOf(metatype: object): string | undefined {
    return (Reflect.getMetadata(MODULE_PATH + this.modules.applicationId, metatype) ?? Reflect.getMetadata(MODULE_PATH, metatype)) as
      string | undefined;
  }

  /** Every path Nest serves the route at (see Nest's RoutePathFactory). */
  private pathsOf(route: DiscoveredRoute): string[] {
    const versioning = this.routing.versioning;
    const prefix = this.routing.globalPrefix;
    const version = route.version ?? versioning?.defaultVersion;
    const versionSegments =
      versioning?.type === VersioningType.URI && version !== undefined
        ? (Array.isArray(version) ? version : [version]).map((v) =>
            v === VERSION_NEUTRAL ? '' : `/${versioning.prefix === false ? '' : (versioning.prefix ?? 'v')}${String(v)}`,
          )
        : [''];
    const paths: string[] = [];
    for (const controllerPath of route.controllerPaths) {
      for (const methodPath of route.methodPaths) {
        const rest = join(route.modulePath ?? '', controllerPath, methodPath);
        for (const versionSegment of versionSegments) {
          const unprefixed = join(versionSegment, rest);
          if (!prefix?.prefix) {
            paths.push(unprefixed);
            continue;
          }
          const excluded = isExcluded(prefix.options?.exclude, rest, route.requestMethod);
          if (excluded !== false) paths.push(unprefixed);
          if (excluded !== true) paths.push(join(prefix.prefix, unprefixed));
        }
      }
    }
    return paths;
  }
}

interface DiscoveredRoute {
  readonly name: string;
  readonly method: string | undefined;
  readonly requestMethod: RequestMethod;
  readonly modulePath: string | undefined;
  readonly controllerPaths: string[];
  readonly methodPaths: string[];
  readonly version: DeclaredVersion | undefined;
  /** Whether the guard runs on the route and wants a caller there (see the class comment). */
  readonly needsCaller: boolean;
}

function routeServes(route: TableRoute, method: string | undefined): boolean {
  return route.method === undefined || route.method === method;
}

function pathList(value: unknown): string[] {
  if (Array.isArray(value)) return value.length > 0 ? value.map(String) : ['/'];
  return [typeof value === 'string' ? value : '/'];
}

/** Joins path fragments as Nest does: one slash between them, none at the end (but for the root). */
function join(...fragments: string[]): string {
  const path = fragments
    .map((f) => f.replace(/^\/+|\/+$/g, ''))
    .filter((f) => f !== '')
    .join('/');
  return `/${path}`;
}

/**
 * Whether the global prefix's `exclude` list takes the route out of the prefix: true, false, or
 * undefined when an entry cannot be compiled (then the route is listed both with and without it).
 */
function isExcluded(
  exclude: ReadonlyArray<string | { path: string; method: RequestMethod }> | undefined,
  path: string,
  method: RequestMethod,
): boolean | undefined {
  if (!exclude) return false;
  let unknown = false;
  for (const entry of exclude) {
    const entryPath = typeof entry === 'string' ? entry : entry.path;
    const entryMethod = typeof entry === 'string' ? RequestMethod.ALL : entry.method;
    if (entryMethod !== RequestMethod.ALL && entryMethod !== method) continue;
    const compiled = compile(undefined, join(entryPath));
    if (!compiled) unknown = true;
    else if (compiled.regexp.test(path)) return true;
  }
  return unknown ? undefined : false;
}

/**
 * A route path compiled for matching, or undefined when it cannot be. Nest 12 paths use
 * path-to-regexp 8 syntax; the older wildcards (`*`, `(.*)`) that Nest still converts are converted
 * the same way.
 */
function compile(method: string | undefined, pattern: string): TableRoute | undefined {
  for (const candidate of [pattern, legacyToCurrent(pattern)]) {
    try {
      return { method, pattern, regexp: pathToRegexp(candidate, { sensitive: false, end: true, trailing: true }).regexp };
    } catch {
      // try the converted form, then give up
    }
  }
  return undefined;
}

function legacyToCurrent(pattern: string): string {
  return pattern.replace(/\(\.\*\)/g, '{*path}').replace(/(^|\/)\*(?=\/|$)/g, '$1*path');
}
