import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { HOST_METADATA } from '@nestjs/common/constants.js';
import { DiscoveryService } from '@nestjs/core';
import { HttpRoutingConfig } from '../options/http-routing-config.js';
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

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly routing: HttpRoutingConfig,
  ) {}

  onApplicationBootstrap(): void {
    const hostScoped = this.discovery
      .getControllers()
      .some(({ metatype }) => metatype !== null && metatype !== undefined && Reflect.getMetadata(HOST_METADATA, metatype) !== undefined);
    this.#components = routingComponents(this.routing.versioning, hostScoped);
  }

  /** Empty until bootstrap; then the version header, `accept` or `@authority` where they select a handler. */
  get components(): readonly string[] {
    return this.#components;
  }
}
