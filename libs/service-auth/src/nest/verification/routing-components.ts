import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { HOST_METADATA } from '@nestjs/common/constants.js';
import { DiscoveryService, HttpAdapterHost } from '@nestjs/core';
import { HttpRoutingConfig } from '../options/http-routing-config.js';
import type { ServiceAuthRequest } from '../adapters/service-auth-request.js';
import { routingComponents } from './routing-inputs.js';

/**
 * The covered components every signature must include in this application, because Nest chooses a
 * handler by them (see routingComponents): worked out once at bootstrap, when the versioning given to
 * ServiceAuthModule.setup and every controller's host are known, and handed to the verifier on every
 * request by the guard.
 */
@Injectable()
export class RoutingComponents implements OnApplicationBootstrap {
  #components: readonly string[] = [];
  #hostScoped = false;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly routing: HttpRoutingConfig,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  onApplicationBootstrap(): void {
    this.#hostScoped = this.discovery
      .getControllers()
      .some(({ metatype }) => metatype !== null && metatype !== undefined && Reflect.getMetadata(HOST_METADATA, metatype) !== undefined);
    this.#components = routingComponents(this.routing.versioning, this.#hostScoped);
  }

  /** Empty until bootstrap; then the version header, `accept` or `@authority` where they select a handler. */
  get components(): readonly string[] {
    return this.#components;
  }

  /**
   * The host Nest chose the request's controller by (what its host filter reads, through the adapter),
   * or undefined when no controller is host-scoped. Under a trusted proxy it comes from
   * X-Forwarded-Host, so the guard checks it against the signed authority (checkRoutedHost).
   */
  routedHostOf(req: ServiceAuthRequest): string | undefined {
    if (!this.#hostScoped) return undefined;
    const hostname: unknown = this.adapterHost.httpAdapter?.getRequestHostname(req);
    return typeof hostname === 'string' ? hostname : '';
  }
}
