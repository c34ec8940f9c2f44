import type { Type } from '@nestjs/common';
import type { DiscoveryService } from '@nestjs/core';

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

function declaresMessageHandler(metatype: Type): boolean {
  for (
    let prototype = metatype.prototype as object | null;
    prototype && prototype !== Object.prototype;
    prototype = Object.getPrototypeOf(prototype) as object | null
  ) {
    for (const name of Object.getOwnPropertyNames(prototype)) {
      const member = Object.getOwnPropertyDescriptor(prototype, name)?.value as unknown;
      if (typeof member === 'function' && name !== 'constructor' && Reflect.getMetadata(PATTERN_METADATA, member) !== undefined)
        return true;
    }
  }
  return false;
}
