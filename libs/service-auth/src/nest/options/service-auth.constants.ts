/** Metadata keys and injection tokens, in one place. */
export const TRUSTED_CALLERS_METADATA = 'service-auth:trusted-callers';
export const PUBLIC_ROUTE_METADATA = 'service-auth:public-route';
export const ENCRYPTION_POLICY_METADATA = 'service-auth:encryption-policy';
/** Set on a handler one of whose parameters is @Caller(). */
export const CALLER_PARAMETER_METADATA = 'service-auth:caller-parameter';

/** The request property the guard stores the verified caller under. */
export const VERIFIED_CALLER_PROPERTY = 'serviceAuthCaller';

/** The module's options, validated and with every default filled in (ResolvedServiceAuthOptions). */
export const RESOLVED_OPTIONS = Symbol('SERVICE_AUTH_RESOLVED_OPTIONS');
export const NONCE_STORE = Symbol('SERVICE_AUTH_NONCE_STORE');
export const REQUEST_VERIFIER = Symbol('SERVICE_AUTH_REQUEST_VERIFIER');
/** The VerificationObserver of the `metrics` option, or null when metrics are off. */
export const VERIFICATION_OBSERVER = Symbol('SERVICE_AUTH_VERIFICATION_OBSERVER');
