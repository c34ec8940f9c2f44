import { KeyConfigurationError } from '../errors/key-configuration.error.js';
import type { CallerDefinition, CredentialAlgorithm, CredentialDefinition, KeyMaterial, UpstreamDefinition } from './key-material.js';
import type { KeyProvider } from './key-provider.interface.js';
import { DEFAULT_ENV_PREFIX, envVariableNames, type EnvVariableNames } from './env-variable-names.js';

export { envName } from './env-variable-names.js';

export interface EnvKeyProviderOptions {
  /** Reads one variable; defaults to process.env. Pass `(n) => config.get(n)` to read through ConfigService. */
  get?: (name: string) => string | undefined;
  /** Variable name prefix, `SERVICE_AUTH` by default. */
  prefix?: string;
}

/**
 * Parses a key list: entries separated by commas, current key first. An entry is
 * `keyId:apiKey:secret` (an hmac-sha256 key) or `keyId:apiKey:algorithm:keyMaterial`, the form that
 * leaves room for other kinds of key. No part may contain `:` or `,`; base64/base64url never does.
 */
export function parseKeyList(value: string, variable: string): CredentialDefinition[] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0)
    .map((entry, i) => {
      const parts = entry.split(':');
      const source = `${variable}, entry ${i + 1}`;
      if ((parts.length !== 3 && parts.length !== 4) || parts.some((p) => p.length === 0)) {
        throw new KeyConfigurationError(`${variable}: entry ${i + 1} must have the form keyId:apiKey:secret`);
      }
      if (parts.length === 3) {
        const [id, apiKey, secret] = parts;
        return { id, apiKey, secret, source };
      }
      const [id, apiKey, algorithm, secret] = parts;
      return { id, apiKey, algorithm: algorithm as CredentialAlgorithm, secret, source };
    });
}

/** A credential as a key list holds it: the secret as text (base64 or base64url). */
export interface KeyListEntry {
  id: string;
  apiKey: string;
  secret: string;
  algorithm?: CredentialAlgorithm;
}

/**
 * The inverse of parseKeyList: `keyId:apiKey:secret` entries (with the algorithm when one is named),
 * joined by commas, in the order given.
 */
export function formatKeyList(keys: readonly KeyListEntry[]): string {
  return keys
    .map((key) => (key.algorithm ? `${key.id}:${key.apiKey}:${key.algorithm}:${key.secret}` : `${key.id}:${key.apiKey}:${key.secret}`))
    .join(',');
}

function idList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * Reads keys from the environment. Every credential belongs to one (caller → callee) pair:
 * - inbound: `<PREFIX>_CALLERS` names the services allowed to call this one, and
 *   `<PREFIX>_CALLER_<ID>_KEYS` holds each one's active keys for calling THIS service;
 * - outbound: `<PREFIX>_UPSTREAMS` names the services this one calls (their own service ids),
 *   `<PREFIX>_UPSTREAM_<ID>_URL` where each one is, and `<PREFIX>_UPSTREAM_<ID>_KEYS` this service's
 *   keys for calling it (the first one signs).
 * ID is the service id as produced by envName. Values are read on every load: with a `get` over a
 * source that changes at run time, reload picks up new values; `process.env` (the default) is not
 * changed from outside a running process, so new values there take a restart.
 */
export class EnvKeyProvider implements KeyProvider {
  private readonly get: (name: string) => string | undefined;
  private readonly prefix: string;
  private readonly names: EnvVariableNames;

  constructor(options: EnvKeyProviderOptions = {}) {
    this.get = options.get ?? ((name) => process.env[name]);
    this.prefix = options.prefix ?? DEFAULT_ENV_PREFIX;
    this.names = envVariableNames(this.prefix);
  }

  load(): KeyMaterial {
    const material: KeyMaterial = {};

    const callersVar = this.names.callers;
    const callerIds = idList(this.get(callersVar));
    if (callerIds.length > 0) {
      material.callers = callerIds.map((id): CallerDefinition => {
        const variable = this.names.callerKeys(id);
        return { id, keys: parseKeyList(this.required(variable, callersVar, `caller "${id}"`), variable), source: variable };
      });
    }

    const upstreamsVar = this.names.upstreams;
    const upstreamIds = idList(this.get(upstreamsVar));
    if (upstreamIds.length > 0) {
      material.upstreams = upstreamIds.map((id): UpstreamDefinition => {
        const urlVar = this.names.upstreamUrl(id);
        const keysVar = this.names.upstreamKeys(id);
        const url = this.required(urlVar, upstreamsVar, `upstream "${id}"`).trim();
        return { id, url, keys: parseKeyList(this.required(keysVar, upstreamsVar, `upstream "${id}"`), keysVar), source: urlVar };
      });
    }
    return material;
  }

  private required(variable: string, listVar: string, what: string): string {
    const value = this.get(variable);
    if (value === undefined || value.replace(/[\s,]/g, '') === '')
      throw new KeyConfigurationError(`${variable} is not set, but ${listVar} names ${what}`);
    return value;
  }
}
