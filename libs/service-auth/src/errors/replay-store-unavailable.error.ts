/**
 * The replay (nonce) store could not answer: connection refused or lost, a command error, or no
 * reply within the store's timeout. A guard that sees this error must refuse the request (fail
 * closed): the nonce may or may not have been recorded, so the request cannot be proven fresh.
 *
 * `message` never contains connection credentials (the password of a Redis URL is redacted).
 * `cause`, when set, is the underlying client error, for the server log only.
 */
export class ReplayStoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ReplayStoreUnavailableError';
  }
}
