import { formatKeyList, type KeyListEntry } from './env-key-provider.js';
import { envVariableNames } from './env-variable-names.js';

/**
 * The variables each end of one (caller → callee) pair needs, for EnvKeyProvider: the caller lists
 * the callee as an upstream (where it is, and the keys, current first); the callee lists the caller
 * and the same keys. Only this pair: a service with other callers or upstreams adds these ids to
 * its existing lists.
 */
export function callerEnvironment(calleeId: string, url: string, keys: readonly KeyListEntry[], prefix?: string): Record<string, string> {
  const names = envVariableNames(prefix);
  return {
    [names.upstreams]: calleeId,
    [names.upstreamUrl(calleeId)]: url,
    [names.upstreamKeys(calleeId)]: formatKeyList(keys),
  };
}

/** The callee's side of the pair: see callerEnvironment. */
export function calleeEnvironment(callerId: string, keys: readonly KeyListEntry[], prefix?: string): Record<string, string> {
  const names = envVariableNames(prefix);
  return {
    [names.callers]: callerId,
    [names.callerKeys(callerId)]: formatKeyList(keys),
  };
}
