/**
 * The components every request signature must cover. A signature over less is refused even when it
 * is mathematically valid: otherwise a signer (or an attacker replaying a weaker signature) could
 * leave the method, the path or the query free to change.
 */
export const REQUIRED_COMPONENTS = ['@method', '@path', '@query', 'x-api-key'] as const;

/** Additionally required when the request has a body: the body is bound through its digest. */
export const BODY_COMPONENTS = ['content-type', 'content-digest'] as const;

/** Headers that, when present, carry meaning and so must be covered too. */
export const COVERED_IF_PRESENT = ['idempotency-key', 'content-encoding'] as const;

/**
 * `accept` when it asks for a sealed answer (application/jose): it decides whether the answer is
 * encrypted, so an unsigned one could be stripped in transit and the answer read in plaintext.
 */
export const ACCEPT_COMPONENT = 'accept';

/** The default algorithm, of every credential that names none. The key, never the message, decides which one applies. */
export const SIGNATURE_ALGORITHM = 'hmac-sha256';

/** Signature label used by the signer (verifiers accept any label). */
export const SIGNATURE_LABEL = 'sig1';

/** 128 random bits in base64url is 22 characters. */
export const MIN_NONCE_LENGTH = 22;
/** The nonce's alphabet: base64url without padding (RFC 4648 §5), what 16 random bytes encode to. */
export const NONCE_PATTERN = /^[A-Za-z0-9_-]+$/;
export const MAX_NONCE_LENGTH = 128;

// Bounds on what a verifier parses: far above anything a legitimate signer sends, they keep a hostile
// header cheap to refuse.
export const MAX_SIGNATURE_FIELD_LENGTH = 8 * 1024;
export const MAX_COVERED_COMPONENTS = 32;
