import type { KeyMaterial } from './key-material.js';

/**
 * Supplies key material, at start-up and again on every reload. Implement it to read keys from a
 * vault or a secrets manager; the default reads the environment.
 */
export interface KeyProvider {
  load(): KeyMaterial | Promise<KeyMaterial>;
}
