/**
 * Remembers nonces so that a signed request is accepted at most once.
 *
 * Implementations must make `claim` atomic across every process that shares the store: two
 * concurrent claims of the same key resolve `true` for exactly one of them. A store that cannot
 * answer (network down, timeout) must reject, never resolve `true`: the guard then fails closed.
 */
export interface NonceStore {
  /**
   * Records `key` until `expiresAtMs` (epoch milliseconds).
   * Resolves `true` when the key was not yet present (first use), `false` when it was (a replay).
   */
  claim(key: string, expiresAtMs: number): Promise<boolean>;

  /**
   * Resolves when the store can take claims right now; rejects (with a message that holds no
   * secret) when claims would fail. Used by health checks (ReplayStoreHealthIndicator); a store
   * without it is reported healthy.
   */
  ping?(): Promise<void>;

  /** Releases connections or timers; called when the Nest application shuts down. */
  close?(): Promise<void>;
}
