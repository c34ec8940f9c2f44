import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { KeyConfigurationError } from '../errors/key-configuration.error.js';
import type { ResolvedServiceAuthOptions } from './resolved-options.js';
import { RESOLVED_OPTIONS, TRUSTED_CALLERS_METADATA } from './service-auth.constants.js';
import { ServiceAuthKeys } from './service-auth-keys.service.js';

/** What Reflector reads metadata from, as Nest types it: a class or a method. */
type MetadataTarget = Parameters<Reflector['get']>[1];

/**
 * Refuses to start when a @TrustedCaller names a caller that is not configured: a typo there would
 * otherwise lock a route to nobody, silently, until the first production call fails.
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
    for (const wrapper of this.discovery.getControllers()) {
      const instance: unknown = wrapper.instance;
      const metatype = wrapper.metatype;
      if (!instance || !metatype) continue;
      const check = (target: MetadataTarget, where: string) => {
        const ids = this.reflector.get<string[] | undefined>(TRUSTED_CALLERS_METADATA, target);
        for (const id of ids ?? []) {
          if (!configured.has(id)) {
            throw new KeyConfigurationError(
              `@TrustedCaller('${id}') on ${where} names a caller that is not configured. ` +
                (this.options.guard === 'none'
                  ? "This service is configured with guard: 'none': it accepts no signed callers."
                  : configured.size
                    ? `Configured callers: ${[...configured].join(', ')}.`
                    : 'This service has no callers configured (set SERVICE_AUTH_CALLERS and SERVICE_AUTH_CALLER_<ID>_KEYS, or options.keys.callers).'),
            );
          }
        }
      };
      check(metatype, metatype.name);
      // getAllMethodNames lists only the prototype's function-valued members.
      const prototype = Object.getPrototypeOf(instance) as Record<string, MetadataTarget>;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        check(prototype[method], `${metatype.name}.${method}`);
      }
    }
  }
}
