/** The prefix of every variable EnvKeyProvider reads, unless told otherwise. */
export const DEFAULT_ENV_PREFIX = 'SERVICE_AUTH';

/** `order-service` → `ORDER_SERVICE`, the form a service id takes inside a variable name. */
export function envName(id: string): string {
  return id.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}

/**
 * The names of the key variables, in one place: EnvKeyProvider reads them, and the keygen tool and
 * the testing helpers write them, so what is written is what is read.
 */
export interface EnvVariableNames {
  /** On a callee: the ids of the services allowed to call it. */
  readonly callers: string;
  /** On a callee: the keys of the pair (that caller → this service). */
  callerKeys(callerId: string): string;
  /** On a caller: the ids of the services it calls. */
  readonly upstreams: string;
  /** On a caller: where that upstream is. */
  upstreamUrl(upstreamId: string): string;
  /** On a caller: its keys for that upstream, current first. */
  upstreamKeys(upstreamId: string): string;
  /** On a caller: the public halves of that upstream's answer keys (ed25519 pairs). */
  upstreamAnswerKeys(upstreamId: string): string;
  /** On a callee of ed25519 callers: its own answer keys, current first. */
  readonly answerKeys: string;
  /** On a caller: the public halves of that upstream's X25519 encryption keys (ed25519 pairs), current first. */
  upstreamEncryptionKeys(upstreamId: string): string;
  /** On a callee of ed25519 callers: its own X25519 encryption keys, current first. */
  readonly encryptionKeys: string;
}

export function envVariableNames(prefix: string = DEFAULT_ENV_PREFIX): EnvVariableNames {
  return {
    callers: `${prefix}_CALLERS`,
    callerKeys: (callerId) => `${prefix}_CALLER_${envName(callerId)}_KEYS`,
    upstreams: `${prefix}_UPSTREAMS`,
    upstreamUrl: (upstreamId) => `${prefix}_UPSTREAM_${envName(upstreamId)}_URL`,
    upstreamKeys: (upstreamId) => `${prefix}_UPSTREAM_${envName(upstreamId)}_KEYS`,
    upstreamAnswerKeys: (upstreamId) => `${prefix}_UPSTREAM_${envName(upstreamId)}_ANSWER_KEYS`,
    answerKeys: `${prefix}_ANSWER_KEYS`,
    upstreamEncryptionKeys: (upstreamId) => `${prefix}_UPSTREAM_${envName(upstreamId)}_ENCRYPTION_KEYS`,
    encryptionKeys: `${prefix}_ENCRYPTION_KEYS`,
  };
}
