/** Raised at start-up (or on reload) when key material is unusable; the message names the setting. */
export class KeyConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyConfigurationError';
  }
}
