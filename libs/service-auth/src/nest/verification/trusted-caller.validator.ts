import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { KeyConfigurationError } from '../../errors/key-configuration.error.js';
import type { ResolvedServiceAuthOptions } from '../options/resolved-options.js';
import {
  CALLER_PARAMETER_METADATA,
  PUBLIC_ROUTE_METADATA,
  RESOLVED_OPTIONS,
  TRUSTED_CALLERS_METADATA,
} from '../options/service-auth.constants.js';
import { readHandlerAccess } from './route-access.js';
import { ServiceAuthKeys } from '../service-auth-keys.service.js';

/** What Reflector reads metadata from, as Nest types it: a class or a method. */
type MetadataTarget = Parameters<Reflector['get']>[1];

/**
 * The metadata of handlers served by contexts the library does not verify: WebSocket messages
 * (@SubscribeMessage). Microservice messages are verified (signed envelopes).
 */
const UNVERIFIED_HANDLER_METADATA = [['message', 'WebSocket message']] as const;

/**
 * @nestjs/graphql's public constants, written out so that the library does not load that optional
 * peer: RESOLVER_PROPERTY_METADATA (set on a @ResolveField method) and GRAPHQL_MODULE_OPTIONS (the
 * token of GraphQLModule's options).
 */
const FIELD_RESOLVER_METADATA = 'graphql:resolve_property';
const GRAPHQL_MODULE_OPTIONS = 'GqlModuleOptions';

/**
 * Refuses to start on a route declaration that cannot do what it says:
 * - a @TrustedCaller naming a caller that is not configured (a typo there would otherwise lock a
 *   route to nobody, silently, until the first production call fails);
 * - a @TrustedCaller on a handler served by a context the library does not verify (WebSocket
 *   messages): no caller is ever verified there;
 * - a @Caller() on a @PublicRoute() handler or on such a handler: it would have no caller to give;
 * - @TrustedCaller, @PublicRoute() or @Caller() on a GraphQL field resolver (@ResolveField) when Nest
 *   runs no guards there (the default; `fieldResolverEnhancers: ['guards']` in GraphQLModule's
 *   options turns them on): the declaration would be silently ignored, and a field meant for one
 *   caller would be read by any caller of a query that returns its type.
 * Controllers and providers alike are read: resolvers and gateways are providers.
 */
@Injectable()
export class TrustedCallerValidator implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly keys: ServiceAuthKeys,
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedServiceAuthOptions,
  ) {}

  onModuleInit(): void {
    const configured = new Set(this.keys.ring.callerIds);
    const guardsOnFieldResolvers = this.guardsRunOnFieldResolvers();
    for (const wrapper of [...this.discovery.getControllers(), ...this.discovery.getProviders()]) {
      const instance: unknown = wrapper.instance;
      const metatype = wrapper.metatype;
      // Classes only: a factory's or a value's instance declares no routes.
      if (!instance || typeof instance !== 'object' || !metatype || wrapper.inject) continue;
      this.checkCallerIds(configured, metatype, metatype.name);
      // getAllMethodNames lists only the prototype's function-valued members.
      const prototype = Object.getPrototypeOf(instance) as Record<string, MetadataTarget>;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const handler = prototype[method];
        const where = `${metatype.name}.${method}`;
        this.checkCallerIds(configured, handler, where);
        this.checkDeclarations(handler, metatype, where);
        if (!guardsOnFieldResolvers) this.checkFieldResolver(handler, metatype, where);
      }
    }
  }

  /**
   * Whether Nest runs guards on field resolvers: every GraphQLModule of the app lists 'guards' in
   * `fieldResolverEnhancers` (read from its options provider, as Nest's resolver explorer does).
   */
  private guardsRunOnFieldResolvers(): boolean {
    const graphqlOptions = this.discovery.getProviders().filter((wrapper) => wrapper.token === GRAPHQL_MODULE_OPTIONS);
    return (
      graphqlOptions.length > 0 &&
      graphqlOptions.every((wrapper) => {
        const enhancers = (wrapper.instance as { fieldResolverEnhancers?: unknown } | undefined)?.fieldResolverEnhancers;
        return Array.isArray(enhancers) && enhancers.includes('guards');
      })
    );
  }

  /** A field resolver's declarations, when no guard runs on it to honour them (see the class comment). */
  private checkFieldResolver(handler: MetadataTarget, metatype: MetadataTarget, where: string): void {
    if (this.reflector.get<boolean | undefined>(FIELD_RESOLVER_METADATA, handler) !== true) return;
    const access = readHandlerAccess(this.reflector, handler, metatype);
    const declared = [
      !access.public && access.callers ? '@TrustedCaller' : undefined,
      this.reflector.get<boolean | undefined>(PUBLIC_ROUTE_METADATA, handler) ? '@PublicRoute()' : undefined,
      this.reflector.get<boolean | undefined>(CALLER_PARAMETER_METADATA, handler) ? '@Caller()' : undefined,
    ].filter((d) => d !== undefined);
    if (declared.length === 0) return;
    throw new Error(
      `${declared.join(', ')} on ${where}, a GraphQL field resolver (@ResolveField): Nest runs no guards on field resolvers ` +
        'unless GraphQLModule is told to, so the declaration would be silently ignored (any caller of a query returning ' +
        "this type would resolve the field). Add fieldResolverEnhancers: ['guards'] to the GraphQLModule.forRoot options " +
        '(then the guard verifies every field resolver and applies its trust list), or remove the declaration from the ' +
        'field resolver (and declare it on the queries and mutations instead).',
    );
  }

  private checkCallerIds(configured: ReadonlySet<string>, target: MetadataTarget, where: string): void {
    const ids = this.reflector.get<string[] | undefined>(TRUSTED_CALLERS_METADATA, target);
    for (const id of ids ?? []) {
      if (!configured.has(id)) {
        throw new KeyConfigurationError(
          `@TrustedCaller('${id}') on ${where} names a caller that is not configured. ` +
            (configured.size
              ? `Configured callers: ${[...configured].join(', ')}.`
              : 'This service has no callers configured (set SERVICE_AUTH_CALLERS and SERVICE_AUTH_CALLER_<ID>_KEYS, or options.keys.callers).'),
        );
      }
    }
  }

  private checkDeclarations(handler: MetadataTarget, metatype: MetadataTarget, where: string): void {
    const access = readHandlerAccess(this.reflector, handler, metatype);
    const unverified = UNVERIFIED_HANDLER_METADATA.find(([key]) => this.reflector.get<unknown>(key, handler) !== undefined)?.[1];
    if (unverified && !access.public && access.callers) {
      throw new Error(
        `@TrustedCaller on ${where}, a ${unverified} handler: such messages are not verified (HTTP requests, GraphQL over HTTP and microservice messages are), ` +
          'so no caller can be trusted there and every message would be refused. Remove @TrustedCaller from it, ' +
          'or mark it @PublicRoute() to accept unauthenticated messages.',
      );
    }
    if (this.reflector.get<boolean | undefined>(CALLER_PARAMETER_METADATA, handler)) {
      if (unverified) {
        throw new Error(
          `@Caller() on ${where}, a ${unverified} handler: such messages are not verified, so there is no caller to give it.`,
        );
      }
      if (access.public) {
        throw new Error(
          `@Caller() on ${where}, a @PublicRoute(): public routes verify no caller, so there is none to give it. ` +
            'Remove @PublicRoute() (and let callers sign), or remove @Caller().',
        );
      }
    }
  }
}
