import { createPublicKey, hash, type KeyObject } from 'node:crypto';
import { deriveKeys } from './key-derivation.js';
import { KeyConfigurationError } from '../errors/key-configuration.error.js';
import type {
  AnswerKeyDefinition,
  CallerDefinition,
  EncryptionKeyDefinition,
  CredentialAlgorithm,
  CredentialDefinition,
  KeyMaterial,
  UpstreamDefinition,
} from './key-material.js';
import { decodeBase64Text, isBase64Text, looksLikeApiKey, looksLikeSecret, MIN_SECRET_BYTES } from './credential-shapes.js';
import { publicKeyText, readOkpKeyText, type OkpKeyType } from './okp-key-text.js';
import { SIGNATURE_ALGORITHMS } from '../crypto/signature-algorithm.js';

export { MIN_SECRET_BYTES } from './credential-shapes.js';
export const MIN_API_KEY_LENGTH = 32;
/** What a service id or a key id may be: the RFC 3986 unreserved characters, so an id needs no escaping in a header, a URL or a variable's value. */
export const ID_PATTERN = /^[A-Za-z0-9._~-]{1,128}$/;
const ALGORITHMS: readonly CredentialAlgorithm[] = SIGNATURE_ALGORITHMS;

interface ResolvedKeyCommon {
  readonly id: string;
  readonly algorithm: CredentialAlgorithm;
  /** The service that signs with this key. */
  readonly callerId: string;
  /** The service this key is valid at: signatures made with it name this service in `tag`. */
  readonly audience: string;
  readonly apiKey: string;
}

/** An hmac-sha256 credential: both ends hold the secret, and the keys derived from it. */
export interface ResolvedHmacKey extends ResolvedKeyCommon {
  readonly algorithm: 'hmac-sha256';
  readonly hmacKey: Buffer;
  readonly encryptionKey: Buffer;
  /** Signs the callee's answers to this pair (its own HKDF label: never a request key). */
  readonly answerKey: Buffer;
}

/** An ed25519 credential: the caller's private key on the caller's side, only its public key on the callee's. */
export interface ResolvedEd25519Key extends ResolvedKeyCommon {
  readonly algorithm: 'ed25519';
  readonly publicKey: KeyObject;
  /** Present on the caller's side only (an upstream's key). */
  readonly privateKey?: KeyObject;
}

/**
 * A credential ready for use, for one (caller → audience) pair: derived keys computed once, at load
 * time, never per request.
 */
export type ResolvedKey = ResolvedHmacKey | ResolvedEd25519Key;

/** The key a credential encrypts bodies with; undefined for an ed25519 credential, which holds no shared secret. */
export function encryptionKeyOf(key: ResolvedKey | undefined): Buffer | undefined {
  return key?.algorithm === 'hmac-sha256' ? key.encryptionKey : undefined;
}

/** The credential as an hmac-sha256 key; a TypeError for an ed25519 one (or none), which holds no shared key. */
export function asHmacKey(key: ResolvedKey | undefined): ResolvedHmacKey {
  if (key?.algorithm !== 'hmac-sha256') throw new TypeError('Not an hmac-sha256 key');
  return key;
}

/** A service's Ed25519 answer key: with its private half on the service itself, the public half on its callers. */
export interface ResolvedAnswerKey {
  readonly id: string;
  readonly algorithm: 'ed25519';
  readonly publicKey: KeyObject;
  readonly privateKey?: KeyObject;
}

/** A service's X25519 encryption key: its private half on the service itself, the public half on its callers. */
export interface ResolvedEncryptionKey {
  readonly id: string;
  readonly publicKey: KeyObject;
  readonly privateKey?: KeyObject;
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
  /** The upstream's answer keys (public halves) its ed25519 answers are verified with. */
  readonly answerKeys: readonly ResolvedAnswerKey[];
  /** The upstream's X25519 encryption keys (public halves), current first: ed25519 pairs encrypt bodies to the first. */
  readonly encryptionKeys: readonly ResolvedEncryptionKey[];
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
  if (!isBase64Text(trimmed)) {
    throw new KeyConfigurationError(`${where} must be base64 or base64url (generate one with: openssl rand -base64 32)`);
  }
  return decodeBase64Text(trimmed);
}

type CredentialPart = 'id' | 'apiKey' | 'algorithm' | 'secret';
const PART_LABELS: Record<CredentialPart, string> = { id: 'key id', apiKey: 'API key', algorithm: 'algorithm', secret: 'secret' };

/**
 * Where one part of a credential is, never what it holds: a key list in the wrong order puts a
 * secret in any slot. From a key list (a `source`), `VAR, entry 2, part 1 (key id)`, the part's place
 * in `keyId:apiKey[:algorithm]:secret`; from an object, its path, `callers[0] ("a").keys[1].id`.
 */
function partOf(def: CredentialDefinition, at: string, part: CredentialPart): string {
  if (def.source === undefined) return `${at}.${part}`;
  const position = { id: 1, apiKey: 2, algorithm: 3, secret: def.algorithm === undefined ? 3 : 4 }[part];
  return `${at}, part ${position} (${PART_LABELS[part]})`;
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
  /** This service's own answer keys (with their private halves), current first. */
  private answerKeys: readonly ResolvedAnswerKey[] = [];
  /** This service's own X25519 encryption keys (with their private halves), by id. */
  private encryptionKeys = new Map<string, ResolvedEncryptionKey>();

  private constructor(readonly serviceId: string) {}

  static from(material: KeyMaterial, serviceId = 'self'): KeyRing {
    const ring = new KeyRing(serviceId);
    const seenApiKeys = new Map<string, string>();
    const seenSecrets = new Map<string, string>();
    const seenPublicKeys = new Map<string, string>();
    const resolveAll = (
      defs: unknown,
      pair: { callerId: string; audience: string },
      where: string,
      kind: 'caller' | 'upstream',
      id: string,
    ): ResolvedKey[] => {
      const name = `${kind} "${id}"`;
      if (!Array.isArray(defs) || defs.length === 0) throw new KeyConfigurationError(`${where}: ${name} has no keys; give it at least one`);
      // Where each key id was seen, by position (ids are not printed: see partOf).
      const ids = new Map<string, string>();
      return defs.map((def: CredentialDefinition, k) => {
        const at = def?.source ?? `${where} ("${id}").keys[${k}]`;
        const key = resolve(def, pair, at, kind === 'caller' ? 'public' : 'private');
        const sameId = ids.get(key.id);
        if (sameId) throw new KeyConfigurationError(`${partOf(def, at, 'id')} repeats the key id at ${sameId}`);
        ids.set(key.id, at);
        const apiKeyHash = sha256(key.apiKey).toString('latin1');
        const apiKeyClash = seenApiKeys.get(apiKeyHash);
        if (apiKeyClash)
          throw new KeyConfigurationError(
            `${partOf(def, at, 'apiKey')} is also the API key at ${apiKeyClash}; every credential needs its own API key`,
          );
        seenApiKeys.set(apiKeyHash, at);
        if (key.algorithm === 'ed25519') {
          // One key pair may sign towards every upstream (each callee holds only its public half), but
          // two callers with the same public key could each pass for the other.
          if (kind === 'caller') {
            const publicHash = publicKeyText(key.publicKey);
            const publicClash = seenPublicKeys.get(publicHash);
            if (publicClash)
              throw new KeyConfigurationError(
                `${partOf(def, at, 'secret')} is also the public key at ${publicClash}; every caller needs its own key pair`,
              );
            seenPublicKeys.set(publicHash, at);
          }
          return key;
        }
        const secretHash = sha256(key.hmacKey).toString('latin1');
        const secretClash = seenSecrets.get(secretHash);
        if (secretClash) {
          throw new KeyConfigurationError(
            `${partOf(def, at, 'secret')} is also the secret at ${secretClash}; each (caller, callee) pair needs its own secret, ` +
              'or whoever holds it at one end could sign as the other',
          );
        }
        seenSecrets.set(secretHash, at);
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
      const answerKeys = resolveAnswerKeys(upstream.answerKeys, 'public', `${where} ("${upstream.id}").answerKeys`);
      if (answerKeys.length === 0 && keys.some((key) => key.algorithm === 'ed25519')) {
        throw new KeyConfigurationError(
          `${where}: upstream "${upstream.id}" signs with ed25519, so it signs its answers with a key of its own: ` +
            "give its answer keys' public halves (answerKeys; in the environment <PREFIX>_UPSTREAM_<ID>_ANSWER_KEYS)",
        );
      }
      const encryptionKeys = resolveEncryptionKeys(upstream.encryptionKeys, 'public', `${where} ("${upstream.id}").encryptionKeys`);
      const resolved: ResolvedUpstream = { id: upstream.id, origin, basePath, url: origin + basePath, keys, answerKeys, encryptionKeys };
      const sameUrl = [...ring.upstreamsById.values()].find((u) => u.url === resolved.url);
      if (sameUrl)
        throw new KeyConfigurationError(`${where}: upstreams "${sameUrl.id}" and "${upstream.id}" have the same url ${resolved.url}`);
      ring.upstreamsById.set(upstream.id, resolved);
    });
    ring.upstreamsByPrefix = [...ring.upstreamsById.values()].sort((a, b) => b.basePath.length - a.basePath.length);

    ring.answerKeys = resolveAnswerKeys(material.answerKeys, 'private', 'answerKeys');
    const ed25519Caller = [...ring.byCaller.values()].some((keys) => [...keys.values()].some((key) => key.algorithm === 'ed25519'));
    if (ed25519Caller && ring.answerKeys.length === 0) {
      throw new KeyConfigurationError(
        'a caller signs with ed25519, so this service signs its answers to it with a key of its own: ' +
          'give answerKeys (in the environment <PREFIX>_ANSWER_KEYS; generate one with keygen --alg ed25519)',
      );
    }
    ring.encryptionKeys = new Map(resolveEncryptionKeys(material.encryptionKeys, 'private', 'encryptionKeys').map((key) => [key.id, key]));
    return ring;
  }

  /** One of this service's own X25519 encryption keys by id (the JWE kid of a body an ed25519 caller encrypted). */
  findEncryptionKey(keyId: string): ResolvedEncryptionKey | undefined {
    return this.encryptionKeys.get(keyId);
  }

  /** The key this service signs its answers to ed25519 callers with; undefined when it has none. */
  get answerSigningKey(): ResolvedAnswerKey | undefined {
    return this.answerKeys[0];
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

  /** The ids of a caller's active keys, in the order configured; empty for an unknown caller. */
  callerKeyIds(callerId: string): string[] {
    return [...(this.byCaller.get(callerId)?.keys() ?? [])];
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

function resolveAnswerKeys(defs: unknown, half: 'private' | 'public', where: string): ResolvedAnswerKey[] {
  return resolveServiceKeys(defs, half, where, { type: 'ed25519', name: 'Ed25519', role: 'answer' }).map((key): ResolvedAnswerKey => ({
    ...key,
    algorithm: 'ed25519',
  }));
}

function resolveEncryptionKeys(defs: unknown, half: 'private' | 'public', where: string): ResolvedEncryptionKey[] {
  return resolveServiceKeys(defs, half, where, { type: 'x25519', name: 'X25519', role: 'encryption' });
}

/**
 * A service's own key pairs of one kind (its Ed25519 answer keys, its X25519 encryption keys): the
 * private halves on the service itself, the public halves on its callers, which must never hold a
 * private one.
 */
function resolveServiceKeys(
  defs: unknown,
  half: 'private' | 'public',
  where: string,
  kind: { type: OkpKeyType; name: string; role: string },
): { id: string; privateKey?: KeyObject; publicKey: KeyObject }[] {
  if (defs === undefined) return [];
  if (!Array.isArray(defs)) throw new KeyConfigurationError(`${where} must be a list of { id, algorithm: '${kind.type}', key }`);
  const ids = new Set<string>();
  return defs.map((def: AnswerKeyDefinition | EncryptionKeyDefinition, k) => {
    const at = def?.source ?? `${where}[${k}]`;
    if (typeof def !== 'object' || def === null)
      throw new KeyConfigurationError(`${at}: an ${kind.role} key must be an object { id, key }`);
    checkId(def.id, `an ${kind.role} key id`, at);
    if (ids.has(def.id)) throw new KeyConfigurationError(`${at}: the ${kind.role} key id repeats an earlier one`);
    ids.add(def.id);
    if ((def.algorithm ?? kind.type) !== kind.type)
      throw new KeyConfigurationError(`${at}: an ${kind.role} key's algorithm is ${kind.type}`);
    const read = typeof def.key === 'string' ? readOkpKeyText(def.key, kind.type) : undefined;
    if (!read) throw new KeyConfigurationError(`${at}: the key is not an ${kind.name} key (base64 of PKCS#8 or SPKI DER)`);
    if (half === 'public') {
      if (read.kind === 'private') {
        throw new KeyConfigurationError(
          `${at}: this is an ${kind.name} PRIVATE key; a caller holds only the public half of its upstream's ${kind.role} key`,
        );
      }
      return { id: def.id, publicKey: read.key };
    }
    if (read.kind !== 'private') throw new KeyConfigurationError(`${at}: this service's own ${kind.role} key must be its private key`);
    return { id: def.id, privateKey: read.key, publicKey: createPublicKey(read.key) };
  });
}

function resolveEd25519(
  def: CredentialDefinition,
  pair: { callerId: string; audience: string },
  at: string,
  half: 'private' | 'public',
): ResolvedEd25519Key {
  const read = typeof def.secret === 'string' ? readOkpKeyText(def.secret, 'ed25519') : undefined;
  if (!read) throw new KeyConfigurationError(`${partOf(def, at, 'secret')} is not an Ed25519 key (base64 of PKCS#8 or SPKI DER)`);
  const common = { id: def.id, algorithm: 'ed25519' as const, callerId: pair.callerId, audience: pair.audience, apiKey: def.apiKey };
  if (half === 'public') {
    if (read.kind === 'private') {
      throw new KeyConfigurationError(
        `${partOf(def, at, 'secret')} is an Ed25519 PRIVATE key: a callee holds only its caller's public key, or it could sign as its caller`,
      );
    }
    return { ...common, publicKey: read.key };
  }
  if (read.kind !== 'private') {
    throw new KeyConfigurationError(`${partOf(def, at, 'secret')} is an Ed25519 public key: the caller signs with its private key`);
  }
  return { ...common, privateKey: read.key, publicKey: createPublicKey(read.key) };
}

function resolve(
  def: CredentialDefinition,
  pair: { callerId: string; audience: string },
  at: string,
  half: 'private' | 'public',
): ResolvedKey {
  if (typeof def !== 'object' || def === null) throw new KeyConfigurationError(`${at}: a key must be an object { id, apiKey, secret }`);
  checkId(def.id, 'a key id', partOf(def, at, 'id'));
  const algorithm = def.algorithm ?? 'hmac-sha256';
  if (!ALGORITHMS.includes(algorithm)) {
    throw new KeyConfigurationError(`${partOf(def, at, 'algorithm')} is not a supported algorithm; supported: ${ALGORITHMS.join(', ')}`);
  }
  if (typeof def.apiKey !== 'string' || def.apiKey.length < MIN_API_KEY_LENGTH) {
    throw new KeyConfigurationError(`${partOf(def, at, 'apiKey')} must be at least ${MIN_API_KEY_LENGTH} characters`);
  }
  // Swapped parts would send the secret in clear as X-API-Key: refused by their shapes (credential-shapes.ts).
  if (looksLikeSecret(def.apiKey)) {
    throw new KeyConfigurationError(
      `${partOf(def, at, 'apiKey')} looks like a secret (base64 of ${MIN_SECRET_BYTES} bytes or more), not an API key: ` +
        'are the API key and the secret swapped? The order is keyId:apiKey:secret, and an API key starts with sk_',
    );
  }
  if (def.secret === undefined || def.secret === null || def.secret === '') {
    throw new KeyConfigurationError(`${partOf(def, at, 'secret')} is missing`);
  }
  if (algorithm === 'ed25519') return resolveEd25519(def, pair, at, half);
  if (typeof def.secret === 'string' && looksLikeApiKey(def.secret)) {
    throw new KeyConfigurationError(
      `${partOf(def, at, 'secret')} looks like an API key (it starts with sk_), not a secret: ` +
        'are the API key and the secret swapped? The order is keyId:apiKey:secret',
    );
  }
  const secret = decodeSecret(def.secret, partOf(def, at, 'secret'));
  if (secret.length < MIN_SECRET_BYTES) {
    throw new KeyConfigurationError(
      `${partOf(def, at, 'secret')} is ${secret.length} bytes; at least ${MIN_SECRET_BYTES} are required (generate one with: openssl rand -base64 32)`,
    );
  }
  return {
    id: def.id,
    algorithm: 'hmac-sha256',
    callerId: pair.callerId,
    audience: pair.audience,
    apiKey: def.apiKey,
    ...deriveKeys(secret),
  };
}
