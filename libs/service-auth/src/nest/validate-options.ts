import { KeyConfigurationError } from '../keys/key-configuration.error.js';
import type { ServiceAuthModuleOptions } from './service-auth-options.interface.js';

function positiveInteger(value: unknown, setting: string): void {
  if (value !== undefined && (typeof value !== 'number' || !Number.isInteger(value) || value <= 0)) {
    throw new KeyConfigurationError(`ServiceAuthModule: ${setting} must be a positive integer (got ${JSON.stringify(value)})`);
  }
}

/** Checks everything but the keys (KeyRing checks those, naming each key's source). */
export function validateOptions(options: ServiceAuthModuleOptions | undefined): void {
  if (!options || typeof options !== 'object') throw new KeyConfigurationError('ServiceAuthModule: options are required');
  if (typeof options.serviceId !== 'string' || !/^[A-Za-z0-9._~-]{1,128}$/.test(options.serviceId)) {
    throw new KeyConfigurationError('ServiceAuthModule: serviceId is required (1-128 characters of A-Z a-z 0-9 . _ ~ -), e.g. "order-service"');
  }
  if (options.keys && options.keyProvider) {
    throw new KeyConfigurationError('ServiceAuthModule: set either keys or keyProvider, not both');
  }
  positiveInteger(options.maxBodyBytes, 'maxBodyBytes');
  positiveInteger(options.replay?.maxAgeSeconds, 'replay.maxAgeSeconds');
  if (options.replay?.maxFutureSkewSeconds !== undefined) {
    const skew = options.replay.maxFutureSkewSeconds;
    if (typeof skew !== 'number' || !Number.isInteger(skew) || skew < 0) {
      throw new KeyConfigurationError(`ServiceAuthModule: replay.maxFutureSkewSeconds must be a non-negative integer (got ${JSON.stringify(skew)})`);
    }
  }
  positiveInteger(options.client?.timeoutMs, 'client.timeoutMs');
  if (options.encryption !== undefined && !['required', 'optional', 'off'].includes(options.encryption)) {
    throw new KeyConfigurationError(`ServiceAuthModule: encryption must be 'required', 'optional' or 'off' (got ${JSON.stringify(options.encryption)})`);
  }
}
