import { callerEnvironment, calleeEnvironment } from '../keys/pair-environment.js';
import { generateCredential, type GeneratedCredential } from '../keys/generate-credential.js';
import { loadSide } from './load-side.js';
import { checkServicePair, type ServicePair } from './service-pair.js';

export interface KeygenRequest extends ServicePair {
  /** The callee's base URL for the caller's `<PREFIX>_UPSTREAM_<ID>_URL`; a placeholder when absent. */
  url?: string;
  keyId?: string;
  prefix?: string;
  now?: Date;
}

export interface KeygenResult extends ServicePair {
  readonly key: GeneratedCredential;
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
  checkServicePair(request);
  const key = generateCredential(callerId, { keyId: request.keyId, now: request.now });
  const url = request.url ?? placeholderUrl(calleeId);
  const callerEnv = callerEnvironment(calleeId, url, [key], prefix);
  const calleeEnv = calleeEnvironment(callerId, [key], prefix);
  loadSide(callerEnv, callerId, prefix);
  loadSide(calleeEnv, calleeId, prefix);
  return { callerId, calleeId, key, url, urlIsPlaceholder: request.url === undefined, prefix, callerEnv, calleeEnv };
}
