import { KeyConfigurationError } from '../errors/key-configuration.error.js';
import type {
  AnswerKeyDefinition,
  EncryptionKeyDefinition,
  CallerDefinition,
  CredentialAlgorithm,
  CredentialDefinition,
  KeyMaterial,
  UpstreamDefinition,
} from './key-material.js';
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

/**
 * Parses a list of answer keys: `keyId:ed25519:key` entries separated by commas, current first (the
 * key is a private key on the service itself, a public key on its callers).
 */
export function parseAnswerKeyList(value: string, variable: string): AnswerKeyDefinition[] {
  return parseServiceKeyList(value, variable, 'ed25519');
}

/**
 * Parses a list of X25519 encryption keys: `keyId:x25519:key` entries separated by commas, current
 * first (a private key on the service itself, a public key on its callers).
 */
export function parseEncryptionKeyList(value: string, variable: string): EncryptionKeyDefinition[] {
  return parseServiceKeyList(value, variable, 'x25519');
}

function parseServiceKeyList<T extends 'ed25519' | 'x25519'>(
  value: string,
  variable: string,
  algorithm: T,
): { id: string; algorithm: T; key: string; source: string }[] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0)
    .map((entry, i) => {
      const parts = entry.split(':');
      if (parts.length !== 3 || parts[1] !== algorithm || parts.some((p) => p.length === 0)) {
        throw new KeyConfigurationError(`${variable}: entry ${i + 1} must have the form keyId:${algorithm}:key`);
      }
      return { id: parts[0], algorithm, key: parts[2], source: `${variable}, entry ${i + 1}` };
    });
}

/** The inverse of parseEncryptionKeyList. */
export function formatEncryptionKeyList(keys: readonly { id: string; key: string }[]): string {
  return keys.map((key) => `${key.id}:x25519:${key.key}`).join(',');
}

/** The inverse of parseAnswerKeyList. */
export function formatAnswerKeyList(keys: readonly { id: string; key: string }[]): string {
  return keys.map((key) => `${key.id}:ed25519:${key.key}`).join(',');
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
 *   keys for calling it (the first one signs), and for an ed25519 pair
 *   `<PREFIX>_UPSTREAM_<ID>_ANSWER_KEYS` the public halves of that upstream's answer keys
 *   and `<PREFIX>_UPSTREAM_<ID>_ENCRYPTION_KEYS` the public halves of its X25519 encryption keys;
 * - `<PREFIX>_ANSWER_KEYS`: this service's own answer keys, when some caller signs with ed25519, and
 *   `<PREFIX>_ENCRYPTION_KEYS` its own X25519 keys, when such a caller sends encrypted bodies.
 * ID is the service id as produced by envName. Values are read on every load. Over `process.env` (no
 * `get`) that gives nothing new: a running process's environment is fixed from outside, so this
 * provider is not `reloadable` and a reload says so. With `get` over a source that can change (a
 * ConfigService whose values are `set` again, a map a secrets watcher fills), changing the values
 * and calling reload rotates keys in place.
 */
export class EnvKeyProvider implements KeyProvider {
  /** False over `process.env`: see the class comment. */
  readonly reloadable: boolean;
  private readonly get: (name: string) => string | undefined;
  private readonly prefix: string;
  private readonly names: EnvVariableNames;

  constructor(options: EnvKeyProviderOptions = {}) {
    this.reloadable = options.get !== undefined;
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
        const upstream: UpstreamDefinition = {
          id,
          url,
          keys: parseKeyList(this.required(keysVar, upstreamsVar, `upstream "${id}"`), keysVar),
          source: urlVar,
        };
        const answerKeysVar = this.names.upstreamAnswerKeys(id);
        const answerKeys = this.get(answerKeysVar);
        if (answerKeys !== undefined && answerKeys.trim() !== '') upstream.answerKeys = parseAnswerKeyList(answerKeys, answerKeysVar);
        const encryptionKeysVar = this.names.upstreamEncryptionKeys(id);
        const encryptionKeys = this.get(encryptionKeysVar);
        if (encryptionKeys !== undefined && encryptionKeys.trim() !== '')
          upstream.encryptionKeys = parseEncryptionKeyList(encryptionKeys, encryptionKeysVar);
        return upstream;
      });
    }
    const answerKeys = this.get(this.names.answerKeys);
    if (answerKeys !== undefined && answerKeys.trim() !== '') material.answerKeys = parseAnswerKeyList(answerKeys, this.names.answerKeys);
    const encryptionKeys = this.get(this.names.encryptionKeys);
    if (encryptionKeys !== undefined && encryptionKeys.trim() !== '')
      material.encryptionKeys = parseEncryptionKeyList(encryptionKeys, this.names.encryptionKeys);
    return material;
  }

  private required(variable: string, listVar: string, what: string): string {
    const value = this.get(variable);
    if (value === undefined || value.replace(/[\s,]/g, '') === '')
      throw new KeyConfigurationError(`${variable} is not set, but ${listVar} names ${what}`);
    return value;
  }
}
