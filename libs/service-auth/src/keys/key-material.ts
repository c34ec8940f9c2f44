import type { SignatureAlgorithm } from '../crypto/signature-algorithm.js';

/**
 * The algorithms a credential can be for: `hmac-sha256` (a secret both ends hold) or `ed25519` (the
 * caller holds a private key, the callee only the matching public key, so nothing the callee holds
 * can sign as its caller).
 */
export type CredentialAlgorithm = SignatureAlgorithm;

/**
 * One credential of ONE (caller → callee) pair: an id, the API key that names the caller to that
 * callee, and the secret they share. A credential is never shared with a third service, so a callee
 * cannot use what it holds to sign as its caller anywhere else.
 */
export interface CredentialDefinition {
  /** Key id, sent as the signature's `keyid` and the JWE `kid`. Unique per pair. */
  id: string;
  /** `hmac-sha256` (the default when omitted) or `ed25519`. */
  algorithm?: CredentialAlgorithm;
  /** Sent in X-API-Key. At least 32 characters, unique across every credential a service holds. */
  apiKey: string;
  /**
   * The key material. hmac-sha256: the shared secret, base64 or base64url of at least 32 random bytes
   * (or the bytes themselves). ed25519: on the caller (an upstream's key) its private key, on the
   * callee (a caller's key) the caller's public key only, base64(url) of PKCS#8 and SPKI DER.
   */
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
  /**
   * The public halves of the upstream's own answer keys (its `answerKeys`): required when the pair
   * signs with ed25519, since the upstream then signs its answers with a key of its own.
   */
  answerKeys?: AnswerKeyDefinition[];
  /**
   * The public halves of the upstream's X25519 encryption keys (its `encryptionKeys`), current first:
   * on an ed25519 pair, bodies are encrypted to the first (ECDH-ES), since the pair shares no secret.
   */
  encryptionKeys?: EncryptionKeyDefinition[];
  source?: string;
}

/**
 * A service's own Ed25519 key for signing its answers to ed25519 callers (their requests carry no
 * secret the answer could be signed with). The service holds the private key; each caller holds the
 * public key in its upstream's `answerKeys`. One key serves every caller.
 */
export interface AnswerKeyDefinition {
  id: string;
  algorithm?: 'ed25519';
  /** base64(url) DER: PKCS#8 (the private key, on the service itself) or SPKI (the public key, on its callers). */
  key: string;
  source?: string;
}

/**
 * A service's own X25519 key, that ed25519 callers encrypt request bodies to (JWE ECDH-ES). The
 * service holds the private key; each caller holds the public key in its upstream's `encryptionKeys`.
 */
export interface EncryptionKeyDefinition {
  id: string;
  algorithm?: 'x25519';
  /** base64(url) DER: PKCS#8 (the private key, on the service itself) or SPKI (the public key, on its callers). */
  key: string;
  source?: string;
}

/** Everything secret a service holds: the callers it accepts (inbound) and its upstreams (outbound). */
export interface KeyMaterial {
  callers?: CallerDefinition[];
  upstreams?: UpstreamDefinition[];
  /** This service's own answer keys, current first: needed when some caller signs with ed25519. */
  answerKeys?: AnswerKeyDefinition[];
  /** This service's own X25519 encryption keys, current first: needed when an ed25519 caller sends encrypted bodies. */
  encryptionKeys?: EncryptionKeyDefinition[];
}
