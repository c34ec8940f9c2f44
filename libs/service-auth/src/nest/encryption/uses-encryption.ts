import type { DiscoveryService } from '@nestjs/core';
import type { ResolvedServiceAuthOptions } from '../options/resolved-options.js';
import { ENCRYPTION_POLICY_METADATA } from '../options/service-auth.constants.js';
import type { EncryptionPolicy } from '../options/service-auth-options.interface.js';

/**
 * Whether any route of the application can take part in an encrypted exchange: the module's policy
 * is not 'off', or a controller or handler says otherwise with @EncryptedBody(). Read from the
 * controllers' classes, which are known before any of them is instantiated.
 */
export function usesEncryption(options: ResolvedServiceAuthOptions, discovery: DiscoveryService): boolean {
  if (options.encryption !== 'off') return true;
  const declares = (target: object): boolean => {
    const policy = Reflect.getMetadata(ENCRYPTION_POLICY_METADATA, target) as EncryptionPolicy | undefined;
    return policy !== undefined && policy !== 'off';
  };
  return discovery.getControllers().some(({ metatype }) => {
    if (!metatype) return false;
    if (declares(metatype)) return true;
    // Handlers may be inherited from a base controller: every prototype up to Object's.
    for (
      let prototype = metatype.prototype as object | null;
      prototype && prototype !== Object.prototype;
      prototype = Object.getPrototypeOf(prototype) as object | null
    ) {
      for (const name of Object.getOwnPropertyNames(prototype)) {
        const member = Object.getOwnPropertyDescriptor(prototype, name)?.value as unknown;
        if (typeof member === 'function' && name !== 'constructor' && declares(member)) return true;
      }
    }
    return false;
  });
}
