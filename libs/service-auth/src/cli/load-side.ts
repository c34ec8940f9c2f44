import { EnvKeyProvider } from '../keys/env-key-provider.js';
import { KeyRing } from '../keys/key-ring.js';

/**
 * Loads one service's environment the way the service will at start-up (EnvKeyProvider, then
 * KeyRing): the tool prints nothing a service would refuse. Throws KeyConfigurationError.
 */
export function loadSide(env: Readonly<Record<string, string>>, serviceId: string, prefix?: string): KeyRing {
  return KeyRing.from(new EnvKeyProvider({ get: (name) => env[name], prefix }).load(), serviceId);
}
