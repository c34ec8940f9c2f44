import { hash, timingSafeEqual } from 'node:crypto';
import { deriveKeys } from './key-derivation.js';
import { KeyConfigurationError } from './key-configuration.error.js';
import type { CallerDefinition, CredentialDefinition, KeyMaterial } from './key-material.js';

export const MIN_SECRET_BYTES = 32;
export const MIN_API_KEY_LENGTH = 32;
const ID_PATTERN = /^[A-Za-z0-9._~-]{1,128}$/;
const BASE64_PATTERN = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** A credential ready for use: derived keys computed once, at load time, never per request. */
export interface ResolvedKey {
  readonly id: string;
  readonly callerId: string;
  readonly apiKey: string;
  readonly hmacKey: Buffer;
  readonly encryptionKey: Buffer;
}

function sha256(value: string): Buffer {
  return hash('sha256', value, 'buffer') as unknown as Buffer;
}

function decodeSecret(secret: string | Uint8Array, where: string): Buffer {
  if (typeof secret !== 'string') return Buffer.from(secret);
  const trimmed = secret.trim();
  if (!BASE64_PATTERN.test(trimmed)) {
    throw new KeyConfigurationError(`${where} must be base64 or base64url (generate one with: openssl rand -base64 32)`);
  }
  return Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

function resolve(callerId: string, def: CredentialDefinition, where: string): ResolvedKey {
  const at = def.source ?? where;
  if (typeof def.id !== 'string' || !ID_PATTERN.test(def.id)) {
    throw new KeyConfigurationError(`${at}: key id must be 1-128 characters of A-Z a-z 0-9 . _ ~ -`);
  }
  if (typeof def.apiKey !== 'string' || def.apiKey.length < MIN_API_KEY_LENGTH) {
    throw new KeyConfigurationError(`${at}: API key of key "${def.id}" must be at least ${MIN_API_KEY_LENGTH} characters`);
  }
  if (def.secret === undefined || def.secret === null || def.secret === '') {
    throw new KeyConfigurationError(`${at}: secret of key "${def.id}" is missing`);
  }
  const secret = decodeSecret(def.secret, `${at}: secret of key "${def.id}"`);
  if (secret.length < MIN_SECRET_BYTES) {
    throw new KeyConfigurationError(
      `${at}: secret of key "${def.id}" is ${secret.length} bytes; at least ${MIN_SECRET_BYTES} are required (generate one with: openssl rand -base64 32)`,
    );
  }
  return { id: def.id, callerId, apiKey: def.apiKey, ...deriveKeys(secret) };
}

/**
 * The validated, immutable view of key material. A reload builds a new ring and swaps it in whole,
 * so a request never sees half of a rotation.
 */
export class KeyRing {
  /** API keys are indexed by their SHA-256: the lookup's timing depends on a hash the caller cannot steer. */
  private readonly byApiKeyHash = new Map<string, { key: ResolvedKey; hash: Buffer }>();
  private readonly byCaller = new Map<string, Map<string, ResolvedKey>>();
  private readonly own: ResolvedKey[] = [];

  private constructor() {}

  static from(material: KeyMaterial, serviceId = 'self'): KeyRing {
    const ring = new KeyRing();
    const callers: CallerDefinition[] = material.callers ?? [];
    callers.forEach((caller, i) => {
      const where = caller.source ?? `callers[${i}]`;
      if (typeof caller.id !== 'string' || !ID_PATTERN.test(caller.id)) {
        throw new KeyConfigurationError(`${where}: caller id must be 1-128 characters of A-Z a-z 0-9 . _ ~ -`);
      }
      if (ring.byCaller.has(caller.id)) throw new KeyConfigurationError(`${where}: caller "${caller.id}" is configured twice`);
      if (!Array.isArray(caller.keys) || caller.keys.length === 0) {
        throw new KeyConfigurationError(`${where}: caller "${caller.id}" has no keys; give it at least one`);
      }
      const keys = new Map<string, ResolvedKey>();
      caller.keys.forEach((def, k) => {
        const key = resolve(caller.id, def, `${where} ("${caller.id}").keys[${k}]`);
        if (keys.has(key.id)) throw new KeyConfigurationError(`${def.source ?? where}: caller "${caller.id}" has key id "${key.id}" twice`);
        const digest = sha256(key.apiKey);
        const clash = ring.byApiKeyHash.get(digest.toString('latin1'))?.key;
        if (clash) {
          throw new KeyConfigurationError(
            `${def.source ?? where}: API key of "${caller.id}" key "${key.id}" is also used by "${clash.callerId}" key "${clash.id}"; API keys must be unique`,
          );
        }
        keys.set(key.id, key);
        ring.byApiKeyHash.set(digest.toString('latin1'), { key, hash: digest });
      });
      ring.byCaller.set(caller.id, keys);
    });
    const seen = new Set<string>();
    (material.credentials ?? []).forEach((def, i) => {
      const key = resolve(serviceId, def, `credentials[${i}]`);
      if (seen.has(key.id)) throw new KeyConfigurationError(`${def.source ?? `credentials[${i}]`}: key id "${key.id}" is used twice`);
      seen.add(key.id);
      ring.own.push(key);
    });
    return ring;
  }

  /** The key an API key belongs to, compared in constant time; undefined when nobody holds it. */
  findByApiKey(apiKey: string): ResolvedKey | undefined {
    const digest = sha256(apiKey);
    const entry = this.byApiKeyHash.get(digest.toString('latin1'));
    return entry && timingSafeEqual(entry.hash, digest) ? entry.key : undefined;
  }

  /** One of a caller's active keys by id. */
  findCallerKey(callerId: string, keyId: string): ResolvedKey | undefined {
    return this.byCaller.get(callerId)?.get(keyId);
  }

  hasCaller(callerId: string): boolean {
    return this.byCaller.has(callerId);
  }

  get callerIds(): string[] {
    return [...this.byCaller.keys()];
  }

  /** The credential outgoing requests are signed and encrypted with: the first configured. */
  get signingKey(): ResolvedKey | undefined {
    return this.own[0];
  }

  /** One of this service's own credentials by id (answers encrypted under a key being rotated out). */
  findOwnKey(keyId: string): ResolvedKey | undefined {
    return this.own.find((k) => k.id === keyId);
  }
}
