import { KeyConfigurationError } from './key-configuration.error.js';
import type { CallerDefinition, CredentialDefinition, KeyMaterial } from './key-material.js';
import type { KeyProvider } from './key-provider.interface.js';

export interface EnvKeyProviderOptions {
  /** Reads one variable; defaults to process.env. Pass `(n) => config.get(n)` to read through ConfigService. */
  get?: (name: string) => string | undefined;
  /** Variable name prefix, `SERVICE_AUTH` by default. */
  prefix?: string;
}

/** `order-service` → `ORDER_SERVICE`, the form a caller id takes inside a variable name. */
export function envName(id: string): string {
  return id.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}

/**
 * Parses a key list: `keyId:apiKey:secret` entries separated by commas, current key first.
 * None of the three parts may contain `:` or `,`; base64/base64url secrets never do.
 */
export function parseKeyList(value: string, variable: string): CredentialDefinition[] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0)
    .map((entry, i) => {
      const parts = entry.split(':');
      if (parts.length !== 3 || parts.some((p) => p.length === 0)) {
        throw new KeyConfigurationError(`${variable}: entry ${i + 1} must have the form keyId:apiKey:secret`);
      }
      const [id, apiKey, secret] = parts;
      return { id, apiKey, secret, source: `${variable} (entry ${i + 1})` };
    });
}

/**
 * Reads keys from the environment:
 * - `<PREFIX>_KEYS`: this service's own credentials for outgoing calls (`keyId:apiKey:secret,…`);
 * - `<PREFIX>_CALLERS`: comma-separated ids of the services allowed to call this one;
 * - `<PREFIX>_CALLER_<ID>_KEYS`: each caller's active keys, same format (ID as produced by envName).
 * Values are read on every load, so changing them and calling reload rotates keys in place.
 */
export class EnvKeyProvider implements KeyProvider {
  private readonly get: (name: string) => string | undefined;
  private readonly prefix: string;

  constructor(options: EnvKeyProviderOptions = {}) {
    this.get = options.get ?? ((name) => process.env[name]);
    this.prefix = options.prefix ?? 'SERVICE_AUTH';
  }

  load(): KeyMaterial {
    const material: KeyMaterial = {};
    const ownVar = `${this.prefix}_KEYS`;
    const own = this.get(ownVar);
    if (own !== undefined && own.trim() !== '') material.credentials = parseKeyList(own, ownVar);

    const callersVar = `${this.prefix}_CALLERS`;
    const callerIds = (this.get(callersVar) ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    if (callerIds.length > 0) {
      material.callers = callerIds.map((id): CallerDefinition => {
        const variable = `${this.prefix}_CALLER_${envName(id)}_KEYS`;
        const value = this.get(variable);
        if (value === undefined || value.trim() === '') {
          throw new KeyConfigurationError(`${variable} is not set, but ${callersVar} names caller "${id}"`);
        }
        return { id, keys: parseKeyList(value, variable), source: variable };
      });
    }
    return material;
  }
}
