import { MetadataScanner, type DiscoveryService } from '@nestjs/core';
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
  const scanner = new MetadataScanner();
  return discovery.getControllers().some(({ metatype }) => {
    if (!metatype) return false;
    if (declares(metatype)) return true;
    // Nest's own walk of the handlers, inherited ones included, as its router finds them.
    const prototype = metatype.prototype as Record<string, object>;
    return scanner.getAllMethodNames(prototype).some((name) => declares(prototype[name]));
  });
}
