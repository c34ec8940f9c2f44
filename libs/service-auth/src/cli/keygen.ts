import { callerEnvironment, calleeEnvironment } from '../keys/pair-environment.js';
import { generateCredential, type GeneratedCredential } from '../keys/generate-credential.js';
import { generateEd25519KeyText, generateX25519KeyText } from '../keys/okp-key-text.js';
import { envVariableNames } from '../keys/env-variable-names.js';
import { formatAnswerKeyList, formatEncryptionKeyList } from '../keys/env-key-provider.js';
import type { CredentialAlgorithm } from '../keys/key-material.js';
import { loadSide } from './load-side.js';
import { checkServicePair, type ServicePair } from './service-pair.js';

export interface KeygenRequest extends ServicePair {
  /** The callee's base URL for the caller's `<PREFIX>_UPSTREAM_<ID>_URL`; a placeholder when absent. */
  url?: string;
  keyId?: string;
  prefix?: string;
  now?: Date;
  /** `hmac-sha256` (default): one shared secret. `ed25519`: the caller's key pair, and the callee's answer key pair. */
  algorithm?: CredentialAlgorithm;
}

/** An Ed25519 key pair as key lists hold it. */
export interface GeneratedKeyPair {
  readonly id: string;
  readonly privateKey: string;
  readonly publicKey: string;
}

export interface KeygenResult extends ServicePair {
  readonly algorithm: CredentialAlgorithm;
  /** For ed25519, `secret` is the caller's private key, and `publicKey` what the callee holds. */
  readonly key: GeneratedCredential & { readonly publicKey?: string };
  /** ed25519: the callee's answer key (private on the callee, public on the caller). */
  readonly answerKey?: GeneratedKeyPair;
  /** ed25519: the callee's X25519 encryption key (private on the callee, public on the caller). */
  readonly encryptionKey?: GeneratedKeyPair;
  readonly url: string;
  readonly urlIsPlaceholder: boolean;
  /** The variable name prefix (EnvKeyProvider's `prefix`); SERVICE_AUTH when undefined. */
  readonly prefix: string | undefined;
  /** The caller's variables: the callee as an upstream. */
  readonly callerEnv: Record<string, string>;
  /** The callee's variables: the caller and its keys. */
  readonly calleeEnv: Record<string, string>;
}

/**
 * Where the caller finds the callee, until someone says: a host under `.invalid` (RFC 2606), which
 * never resolves, so a placeholder left in place fails the first call instead of reaching a host
 * somebody happens to own. Still a URL the key ring accepts, so the caller starts.
 */
export function placeholderUrl(calleeId: string): string {
  const label = calleeId
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return `http://${label || 'upstream'}.invalid`;
}

/** A fresh credential for the pair, as the environment of both services; both are loaded once to check them. */
export function keygen(request: KeygenRequest): KeygenResult {
  const { callerId, calleeId, prefix } = request;
  const algorithm = request.algorithm ?? 'hmac-sha256';
  checkServicePair(request);
  const generated = generateCredential(callerId, { keyId: request.keyId, now: request.now });
  const url = request.url ?? placeholderUrl(calleeId);
  if (algorithm === 'hmac-sha256') {
    const callerEnv = callerEnvironment(calleeId, url, [generated], prefix);
    const calleeEnv = calleeEnvironment(callerId, [generated], prefix);
    loadSide(callerEnv, callerId, prefix);
    loadSide(calleeEnv, calleeId, prefix);
    return {
      callerId,
      calleeId,
      algorithm,
      key: generated,
      url,
      urlIsPlaceholder: request.url === undefined,
      prefix,
      callerEnv,
      calleeEnv,
    };
  }
  // The caller keeps its private key; the callee gets only the public one. The callee signs its
  // answers with a key of its own, whose public half the caller holds.
  const pair = generateEd25519KeyText();
  const key = { ...generated, secret: pair.privateKey, publicKey: pair.publicKey };
  const answers = generateEd25519KeyText();
  const answerKey: GeneratedKeyPair = { id: `${calleeId.slice(0, 100)}-answers-${generated.id.slice(-6)}`, ...answers };
  // Bodies are encrypted to the callee's X25519 key (ECDH-ES), since the pair shares no secret.
  const encryption = generateX25519KeyText();
  const encryptionKey: GeneratedKeyPair = { id: `${calleeId.slice(0, 100)}-x25519-${generated.id.slice(-6)}`, ...encryption };
  const names = envVariableNames(prefix);
  const callerEnv = {
    ...callerEnvironment(calleeId, url, [{ id: key.id, apiKey: key.apiKey, algorithm, secret: key.secret }], prefix),
    [names.upstreamAnswerKeys(calleeId)]: formatAnswerKeyList([{ id: answerKey.id, key: answerKey.publicKey }]),
    [names.upstreamEncryptionKeys(calleeId)]: formatEncryptionKeyList([{ id: encryptionKey.id, key: encryptionKey.publicKey }]),
  };
  const calleeEnv = {
    ...calleeEnvironment(callerId, [{ id: key.id, apiKey: key.apiKey, algorithm, secret: key.publicKey }], prefix),
    [names.answerKeys]: formatAnswerKeyList([{ id: answerKey.id, key: answerKey.privateKey }]),
    [names.encryptionKeys]: formatEncryptionKeyList([{ id: encryptionKey.id, key: encryptionKey.privateKey }]),
  };
  loadSide(callerEnv, callerId, prefix);
  loadSide(calleeEnv, calleeId, prefix);
  const urlIsPlaceholder = request.url === undefined;
  return { callerId, calleeId, algorithm, key, answerKey, encryptionKey, url, urlIsPlaceholder, prefix, callerEnv, calleeEnv };
}
