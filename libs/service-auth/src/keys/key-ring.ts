import { hash } from 'node:crypto';
import { deriveKeys } from './key-derivation.js';
import { KeyConfigurationError } from '../errors/key-configuration.error.js';
import type { CallerDefinition, CredentialAlgorithm, CredentialDefinition, KeyMaterial, UpstreamDefinition } from './key-material.js';

export const MIN_SECRET_BYTES = 32;
export const MIN_API_KEY_LENGTH = 32;
/** What a service id or a key id may be: the RFC 3986 unreserved characters, so an id needs no escaping in a header, a URL or a variable's value. */
export const ID_PATTERN = /^[A-Za-z0-9._~-]{1,128}$/;
const BASE64_PATTERN = /^[A-Za-z0-9+/_-]+={0,2}$/;
const ALGORITHMS: readonly CredentialAlgorithm[] = ['hmac-sha256'];

/**
 * A credential ready for use, for one (caller → audience) pair: derived keys computed once, at load
 * time, never per request.
 */
export interface ResolvedKey {
  readonly id: string;
  readonly algorithm: CredentialAlgorithm;
  /** The service that signs with this key. */
  readonly callerId: string;
  /** The service this key is valid at: signatures made with it name this service in `tag`. */
  readonly audience: string;
  readonly apiKey: string;
  readonly hmacKey: Buffer;
  readonly encryptionKey: Buffer;
}

/** A service this one calls: where it is, and the keys of the pair (the first one signs). */
export interface ResolvedUpstream {
  readonly id: string;
  /** `scheme://host[:port]`, as the WHATWG URL parser normalises it. */
  readonly origin: string;
  /** The base path without a trailing slash; '' for the whole origin. */
  readonly basePath: string;
  /** The configured URL, normalised: `origin + basePath`. */
  readonly url: string;
  readonly keys: readonly ResolvedKey[];
}

function sha256(value: string | Uint8Array): Buffer {
  return hash('sha256', value, 'buffer');
}

/** SHA-256 of an API key as 32 latin1 characters (one per byte): the key of KeyRing's index. */
function apiKeyDigest(apiKey: string): string {
  return hash('sha256', apiKey, 'binary'); // 'binary' is latin1: the index's keys are sha256(...).toString('latin1')
}

function decodeSecret(secret: string | Uint8Array, where: string): Buffer {
  if (typeof secret !== 'string') return Buffer.from(secret);
  const trimmed = secret.trim();
  if (!BASE64_PATTERN.test(trimmed)) {
    throw new KeyConfigurationError(`${where} must be base64 or base64url (generate one with: openssl rand -base64 32)`);
  }
  return Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

function checkId(id: unknown, what: string, where: string): asserts id is string {
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
    throw new KeyConfigurationError(`${where}: ${what} must be 1-128 characters of A-Z a-z 0-9 . _ ~ -`);
  }
}

function parseUpstreamUrl(value: unknown, where: string): { origin: string; basePath: string } {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw new KeyConfigurationError(`${where}: url must be an absolute http:// or https:// URL`);
  }
  if (typeof value !== 'string' || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new KeyConfigurationError(
      `${where}: url must be an absolute http:// or https:// URL (got scheme ${JSON.stringify(url.protocol)})`,
    );
  }
  if (url.username || url.password || url.search || url.hash || value.includes('#') || value.includes('?')) {
    throw new KeyConfigurationError(`${where}: url must be scheme://host[:port][/path], without credentials, query or fragment`);
  }
  return { origin: url.origin, basePath: url.pathname.replace(/\/+$/, '') };
}

/**
 * The validated, immutable view of key material. A reload builds a new ring and swaps it in whole,
 * so a request never sees half of a rotation.
 *
 * Least privilege is enforced here: every credential belongs to exactly one (caller → callee) pair.
 * An API key or a secret that appears in two places (two callers, two upstreams, or a caller and an
 * upstream) is refused, because whoever holds it at one end could then sign as the other.
 */
export class KeyRing {
  /**
   * API keys are indexed by their SHA-256 (32 latin1 characters): the lookup compares digests, never
   * keys, so its timing depends on a hash the caller cannot steer, and what it could learn of a
   * configured key's digest gives no way back to the key.
   */
  private readonly byApiKeyHash = new Map<string, ResolvedKey>();
  private readonly byCaller = new Map<string, Map<string, ResolvedKey>>();
  private readonly upstreamsById = new Map<string, ResolvedUpstream>();
  /** Longest base path first, so that the most specific upstream wins. */
  private upstreamsByPrefix: ResolvedUpstream[] = [];

  private constructor(readonly serviceId: string) {}

  static from(material: KeyMaterial, serviceId = 'self'): KeyRing {
    const ring = new KeyRing(serviceId);
    const seenApiKeys = new Map<string, string>();
    const seenSecrets = new Map<string, string>();
    const resolveAll = (
      defs: unknown,
      pair: { callerId: string; audience: string },
      where: string,
      kind: string,
      id: string,
    ): ResolvedKey[] => {
      const name = `${kind} "${id}"`;
      if (!Array.isArray(defs) || defs.length === 0) throw new KeyConfigurationError(`${where}: ${name} has no keys; give it at least one`);
      const ids = new Set<string>();
      return defs.map((def: CredentialDefinition, k) => {
        const at = def?.source ?? `${where} ("${id}").keys[${k}]`;
        const key = resolve(def, pair, at);
        if (ids.has(key.id)) throw new KeyConfigurationError(`${at}: ${name} has key id "${key.id}" twice`);
        ids.add(key.id);
        const label = `${name} key "${key.id}"`;
        const apiKeyHash = sha256(key.apiKey).toString('latin1');
        const apiKeyClash = seenApiKeys.get(apiKeyHash);
        if (apiKeyClash)
          throw new KeyConfigurationError(
            `${at}: the API key of ${label} is also used by ${apiKeyClash}; every credential needs its own API key`,
          );
        seenApiKeys.set(apiKeyHash, label);
        const secretHash = sha256(key.hmacKey).toString('latin1');
        const secretClash = seenSecrets.get(secretHash);
        if (secretClash) {
          throw new KeyConfigurationError(
            `${at}: the secret of ${label} is also used by ${secretClash}; each (caller, callee) pair needs its own secret, ` +
              'or whoever holds it at one end could sign as the other',
          );
        }
        seenSecrets.set(secretHash, label);
        return key;
      });
    };

    (material.callers ?? []).forEach((caller: CallerDefinition, i) => {
      const where = caller?.source ?? `callers[${i}]`;
      checkId(caller?.id, 'caller id', where);
      if (ring.byCaller.has(caller.id)) throw new KeyConfigurationError(`${where}: caller "${caller.id}" is configured twice`);
      const keys = resolveAll(caller.keys, { callerId: caller.id, audience: serviceId }, where, 'caller', caller.id);
      ring.byCaller.set(caller.id, new Map(keys.map((key) => [key.id, key])));
      for (const key of keys) ring.byApiKeyHash.set(apiKeyDigest(key.apiKey), key);
    });

    (material.upstreams ?? []).forEach((upstream: UpstreamDefinition, i) => {
      const where = upstream?.source ?? `upstreams[${i}]`;
      checkId(upstream?.id, 'upstream id', where);
      if (ring.upstreamsById.has(upstream.id)) throw new KeyConfigurationError(`${where}: upstream "${upstream.id}" is configured twice`);
      const { origin, basePath } = parseUpstreamUrl(upstream.url, `${where} ("${upstream.id}")`);
      const keys = resolveAll(upstream.keys, { callerId: serviceId, audience: upstream.id }, where, 'upstream', upstream.id);
      const resolved: ResolvedUpstream = { id: upstream.id, origin, basePath, url: origin + basePath, keys };
      const sameUrl = [...ring.upstreamsById.values()].find((u) => u.url === resolved.url);
      if (sameUrl)
        throw new KeyConfigurationError(`${where}: upstreams "${sameUrl.id}" and "${upstream.id}" have the same url ${resolved.url}`);
      ring.upstreamsById.set(upstream.id, resolved);
    });
    ring.upstreamsByPrefix = [...ring.upstreamsById.values()].sort((a, b) => b.basePath.length - a.basePath.length);
    return ring;
  }

  /**
   * The key an API key belongs to; undefined when nobody holds it. One SHA-256 of the presented key,
   * straight to the Map's string key: the Map's own comparison of digests is the only one needed.
   */
  findByApiKey(apiKey: string): ResolvedKey | undefined {
    return this.byApiKeyHash.get(apiKeyDigest(apiKey));
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

  get upstreamIds(): string[] {
    return [...this.upstreamsById.keys()];
  }

  upstream(id: string): ResolvedUpstream | undefined {
    return this.upstreamsById.get(id);
  }

  /**
   * The upstream a URL belongs to: same origin, and a path inside the upstream's base path (on a
   * segment boundary: `/api` covers `/api` and `/api/x`, not `/apix`). The longest base path wins.
   */
  upstreamFor(url: string | URL): ResolvedUpstream | undefined {
    let parsed: URL;
    try {
      parsed = typeof url === 'string' ? new URL(url) : url;
    } catch {
      return undefined;
    }
    return this.upstreamsByPrefix.find(
      (u) =>
        u.origin === parsed.origin && (u.basePath === '' || parsed.pathname === u.basePath || parsed.pathname.startsWith(`${u.basePath}/`)),
    );
  }

  /** One of an upstream's keys by id (an answer encrypted under a key being rotated out). */
  findUpstreamKey(upstreamId: string, keyId: string): ResolvedKey | undefined {
    return this.upstreamsById.get(upstreamId)?.keys.find((k) => k.id === keyId);
  }
}

function resolve(def: CredentialDefinition, pair: { callerId: string; audience: string }, at: string): ResolvedKey {
  if (typeof def !== 'object' || def === null) throw new KeyConfigurationError(`${at}: a key must be an object { id, apiKey, secret }`);
  checkId(def.id, 'key id', at);
  const algorithm = def.algorithm ?? 'hmac-sha256';
  if (!ALGORITHMS.includes(algorithm)) {
    // The value is not echoed: a key list with its parts in the wrong order would put the secret here.
    throw new KeyConfigurationError(`${at}: key "${def.id}" names an unsupported algorithm; supported: ${ALGORITHMS.join(', ')}`);
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
  return { id: def.id, algorithm, callerId: pair.callerId, audience: pair.audience, apiKey: def.apiKey, ...deriveKeys(secret) };
}
