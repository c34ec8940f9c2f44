import type { KeyMaterial } from './key-material.js';

/**
 * Supplies key material, at start-up and again on every reload. Implement it to read keys from a
 * vault or a secrets manager; the default reads the environment, FileKeyProvider a file.
 */
export interface KeyProvider {
  load(): KeyMaterial | Promise<KeyMaterial>;
  /**
   * Whether load() can give other keys later in the same process. A source fixed at start-up says
   * `false` (the process environment: nothing outside a running process can change it), and
   * `ServiceAuthKeys.reload()` then rejects with a message that says so, instead of reading the same
   * keys again and reporting success. Left out, the provider is taken to be reloadable.
   */
  readonly reloadable?: boolean;
}
