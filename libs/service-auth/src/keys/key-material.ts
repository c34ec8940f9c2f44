/** One credential: an id, the API key that names the caller, and the shared secret behind it. */
export interface CredentialDefinition {
  /** Key id, sent as the signature's `keyid` and the JWE `kid`. Unique per caller. */
  id: string;
  /** Sent in X-API-Key. At least 32 characters. */
  apiKey: string;
  /** Shared secret, base64 or base64url of at least 32 random bytes (or the bytes themselves). */
  secret: string | Uint8Array;
  /** Where the value came from (an environment variable, a vault path); used in error messages only. */
  source?: string;
}

/** A service allowed to call this one, with every key currently active for it. */
export interface CallerDefinition {
  id: string;
  keys: CredentialDefinition[];
  source?: string;
}

/**
 * Everything secret a service holds: the callers it accepts (inbound) and its own credentials for
 * calling others (outbound; the first one is current and signs, the rest remain valid for
 * decrypting answers during a rotation).
 */
export interface KeyMaterial {
  callers?: CallerDefinition[];
  credentials?: CredentialDefinition[];
}
