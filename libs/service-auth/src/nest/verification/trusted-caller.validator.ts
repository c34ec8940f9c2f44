import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { KeyConfigurationError } from '../../errors/key-configuration.error.js';
import type { ResolvedServiceAuthOptions } from '../options/resolved-options.js';
import { CALLER_PARAMETER_METADATA, RESOLVED_OPTIONS, TRUSTED_CALLERS_METADATA } from '../options/service-auth.constants.js';
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
 * Refuses to start on a route declaration that cannot do what it says:
 * - a @TrustedCaller naming a caller that is not configured (a typo there would otherwise lock a
 *   route to nobody, silently, until the first production call fails);
 * - a @TrustedCaller on a handler served by a context the library does not verify (WebSocket
 *   messages): no caller is ever verified there;
 * - a @Caller() on a @PublicRoute() handler or on such a handler: it would have no caller to give.
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
      }
    }
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
