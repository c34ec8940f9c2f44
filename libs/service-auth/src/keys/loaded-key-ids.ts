import { looksLikeApiKey, looksLikeSecret } from './credential-shapes.js';
import type { KeyRing } from './key-ring.js';

/** Which key ids a key ring holds, for whom: what a start-up or reload log line shows. Never a secret, never an API key. */
export interface LoadedKeyIds {
  /** Each caller's id and the ids of its active keys. */
  callers: { id: string; keys: string[] }[];
  /** Each upstream's id, where it is, and the ids of this service's keys for it (the first one signs). */
  upstreams: { id: string; url: string; keys: string[] }[];
}

/** Shown instead of a key id that has the shape of a secret or an API key: a key list written in the wrong order. */
const HIDDEN = '(hidden: looks like a secret)';

export function loadedKeyIds(ring: KeyRing): LoadedKeyIds {
  return {
    callers: ring.callerIds.map((id) => ({ id, keys: ring.callerKeyIds(id).map(shown) })),
    upstreams: ring.upstreamIds.map((id) => {
      const upstream = ring.upstream(id)!;
      return { id, url: upstream.url, keys: upstream.keys.map((key) => shown(key.id)) };
    }),
  };
}

function shown(keyId: string): string {
  return looksLikeSecret(keyId) || looksLikeApiKey(keyId) ? HIDDEN : keyId;
}
