import type { Type } from '@nestjs/common';
import { MetadataScanner, type DiscoveryService } from '@nestjs/core';

/** @nestjs/microservices' metadata: a handler's patterns. */
const PATTERN_METADATA = 'microservices:pattern';

/**
 * The controllers with a microservice handler (@MessagePattern or @EventPattern), read from their
 * classes, inherited handlers included.
 */
export function messageControllers(discovery: DiscoveryService): Type[] {
  const controllers = new Set<Type>();
  for (const { metatype } of discovery.getControllers()) {
    if (typeof metatype === 'function' && declaresMessageHandler(metatype as Type)) controllers.add(metatype as Type);
  }
  return [...controllers];
}

/** Whether any controller has a microservice handler: only then is SignedAnswerInterceptor installed. */
export function hasMessageHandlers(discovery: DiscoveryService): boolean {
  return messageControllers(discovery).length > 0;
}

/** Nest's own walk of the handlers, inherited ones included, as its microservice server finds them. */
function declaresMessageHandler(metatype: Type): boolean {
  const prototype = metatype.prototype as Record<string, object>;
  return new MetadataScanner()
    .getAllMethodNames(prototype)
    .some((name) => Reflect.getMetadata(PATTERN_METADATA, prototype[name]) !== undefined);
}
