import { randomBytes } from 'node:crypto';
import { generateEd25519KeyText, generateX25519KeyText } from 'nest-service-auth/core';

export interface TestCredential {
  id: string;
  apiKey: string;
  secret: string;
}

/** A fresh credential, generated the way the README tells users to. */
export function newCredential(id: string): TestCredential {
  return { id, apiKey: `sk_${randomBytes(32).toString('base64url')}`, secret: randomBytes(32).toString('base64url') };
}

/** The `keyId:apiKey:secret` list format of the SERVICE_AUTH_* variables. */
export function keyList(...credentials: TestCredential[]): string {
  return credentials.map((c) => `${c.id}:${c.apiKey}:${c.secret}`).join(',');
}

/**
 * The environment of a service that calls one upstream with the given keys (current key first):
 * SERVICE_AUTH_UPSTREAMS, SERVICE_AUTH_UPSTREAM_<ID>_URL and SERVICE_AUTH_UPSTREAM_<ID>_KEYS.
 */
export function upstreamEnv(upstreamId: string, url: string, ...credentials: TestCredential[]): Record<string, string> {
  const name = upstreamId.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
  return {
    SERVICE_AUTH_UPSTREAMS: upstreamId,
    [`SERVICE_AUTH_UPSTREAM_${name}_URL`]: url,
    [`SERVICE_AUTH_UPSTREAM_${name}_KEYS`]: keyList(...credentials),
  };
}

/** order-service's environment for calling inventory-service at `url`. */
export function inventoryUpstreamEnv(url: string, ...credentials: TestCredential[]): Record<string, string> {
  return upstreamEnv('inventory-service', url, ...credentials);
}

export type CredentialAlgorithm = 'hmac-sha256' | 'ed25519';

/** Everything of one order-service → inventory-service pair, as keygen prints it, for either algorithm. */
export interface PairKeys {
  algorithm: CredentialAlgorithm;
  /** The credential's id and API key; `secret` is the shared secret (hmac-sha256) or the caller's private key (ed25519). */
  credential: TestCredential;
  /** ed25519: the caller's public key (what the callee holds), the callee's answer and X25519 encryption key pairs. */
  publicKey?: string;
  answerKey?: { id: string; privateKey: string; publicKey: string };
  encryptionKey?: { id: string; privateKey: string; publicKey: string };
  /** inventory-service's variables (the callee). */
  inventory: Record<string, string>;
  /** order-service's variables (the caller), calling inventory-service at `url`. */
  order: Record<string, string>;
}

/** A fresh order-service → inventory-service pair of the given algorithm; order-service calls `url`. */
export function pairKeys(algorithm: CredentialAlgorithm, url: string, keyId = 'order-2026-12'): PairKeys {
  const credential = newCredential(keyId);
  if (algorithm === 'hmac-sha256') {
    return {
      algorithm,
      credential,
      inventory: { SERVICE_AUTH_CALLERS: 'order-service', SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS: keyList(credential) },
      order: inventoryUpstreamEnv(url, credential),
    };
  }
  const caller = generateEd25519KeyText();
  const answerKey = { id: 'inventory-answers-1', ...generateEd25519KeyText() };
  const encryptionKey = { id: 'inventory-x25519-1', ...generateX25519KeyText() };
  const signing = { ...credential, secret: caller.privateKey };
  return {
    algorithm,
    credential: signing,
    publicKey: caller.publicKey,
    answerKey,
    encryptionKey,
    inventory: {
      SERVICE_AUTH_CALLERS: 'order-service',
      SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS: `${credential.id}:${credential.apiKey}:ed25519:${caller.publicKey}`,
      SERVICE_AUTH_ANSWER_KEYS: `${answerKey.id}:ed25519:${answerKey.privateKey}`,
      SERVICE_AUTH_ENCRYPTION_KEYS: `${encryptionKey.id}:x25519:${encryptionKey.privateKey}`,
    },
    order: {
      SERVICE_AUTH_UPSTREAMS: 'inventory-service',
      SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_URL: url,
      SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_KEYS: `${credential.id}:${credential.apiKey}:ed25519:${caller.privateKey}`,
      SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_ANSWER_KEYS: `${answerKey.id}:ed25519:${answerKey.publicKey}`,
      SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_ENCRYPTION_KEYS: `${encryptionKey.id}:x25519:${encryptionKey.publicKey}`,
    },
  };
}
