/**
 * The algorithms a credential can be for. Only `hmac-sha256` today; the field exists so that an
 * asymmetric kind (RFC 9421 `ed25519`, where a callee would hold only the caller's public key) is one
 * more member of this union and of CredentialDefinition, with no change to the shape around it.
 */
export type CredentialAlgorithm = 'hmac-sha256';

/**
 * One credential of ONE (caller → callee) pair: an id, the API key that names the caller to that
 * callee, and the secret they share. A credential is never shared with a third service, so a callee
 * cannot use what it holds to sign as its caller anywhere else.
 */
export interface CredentialDefinition {
  /** Key id, sent as the signature's `keyid` and the JWE `kid`. Unique per pair. */
  id: string;
  /** `hmac-sha256` (the default when omitted). */
  algorithm?: CredentialAlgorithm;
  /** Sent in X-API-Key. At least 32 characters, unique across every credential a service holds. */
  apiKey: string;
  /** Shared secret, base64 or base64url of at least 32 random bytes (or the bytes themselves). */
  secret: string | Uint8Array;
  /** Where the value came from (an environment variable, a vault path); used in error messages only. */
  source?: string;
}

/** A service allowed to call this one, with every key currently active for that pair. */
export interface CallerDefinition {
  id: string;
  keys: CredentialDefinition[];
  source?: string;
}

/**
 * A service this one calls. Its `id` is the callee's own `serviceId`: every signature names it as its
 * audience, so a request captured on the way to one service is refused by every other.
 */
export interface UpstreamDefinition {
  id: string;
  /**
   * The upstream's base URL (`http(s)://host[:port][/base-path]`). An outgoing call is signed with
   * this upstream's credential only when its URL starts with this one; a call to any other URL is
   * refused before anything is sent.
   */
  url: string;
  /** The first key is current and signs; the others stay valid for answers still in flight during a rotation. */
  keys: CredentialDefinition[];
  source?: string;
}

/** Everything secret a service holds: the callers it accepts (inbound) and its upstreams (outbound). */
export interface KeyMaterial {
  callers?: CallerDefinition[];
  upstreams?: UpstreamDefinition[];
}
