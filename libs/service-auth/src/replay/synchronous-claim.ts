import type { NonceClaim, NonceStore } from './nonce-store.interface.js';

/** Where an object gets a property from: itself or the first prototype that has it as its own. */
function ownerOf(object: object, property: string): object | undefined {
  for (let current: object | null = object; current; current = Object.getPrototypeOf(current) as object | null) {
    if (Object.hasOwn(current, property)) return current;
  }
  return undefined;
}

/**
 * A store's `claimNow`, when it may stand in for its `claim`: both come from the same place. A
 * subclass that overrides `claim()` alone (to check a shared store too, or to audit) adds behaviour
 * that the inherited `claimNow()` would skip, so such a store is always asked through `claim()`.
 */
export function synchronousClaimOf(store: NonceStore): ((claim: NonceClaim, expiresAtMs: number) => boolean) | undefined {
  if (typeof store.claimNow !== 'function') return undefined;
  if (ownerOf(store, 'claimNow') !== ownerOf(store, 'claim')) return undefined;
  return store.claimNow.bind(store);
}
