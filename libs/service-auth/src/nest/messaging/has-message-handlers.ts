import type { DiscoveryService } from '@nestjs/core';

/** @nestjs/microservices' metadata: a handler's patterns. */
const PATTERN_METADATA = 'microservices:pattern';

/**
 * Whether any controller has a microservice handler (@MessagePattern or @EventPattern): only then is
 * SignedAnswerInterceptor installed. Read from the controllers' classes, inherited handlers included.
 */
export function hasMessageHandlers(discovery: DiscoveryService): boolean {
  return discovery.getControllers().some(({ metatype }) => {
    if (!metatype) return false;
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
  });
}
