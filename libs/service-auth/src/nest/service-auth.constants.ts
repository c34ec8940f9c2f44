/** Metadata keys and injection tokens, in one place. */
export const TRUSTED_CALLERS_METADATA = 'service-auth:trusted-callers';
export const PUBLIC_ROUTE_METADATA = 'service-auth:public-route';
export const ENCRYPTION_POLICY_METADATA = 'service-auth:encryption-policy';

/** The request property the guard stores the verified caller under. */
export const VERIFIED_CALLER_PROPERTY = 'serviceAuthCaller';

export const NONCE_STORE = Symbol('SERVICE_AUTH_NONCE_STORE');
export const REQUEST_VERIFIER = Symbol('SERVICE_AUTH_REQUEST_VERIFIER');

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_CLIENT_TIMEOUT_MS = 5000;
