import { randomBytes, type KeyObject } from 'node:crypto';
import { acceptsJwe } from '../crypto/jwe-media-type.js';
import { createContentDigest } from './content-digest.js';
import { ACCEPT_COMPONENT, BODY_COMPONENTS, COVERED_IF_PRESENT, REQUIRED_COMPONENTS, SIGNATURE_LABEL } from './covered-components.js';
import { signBase, type SigningKey } from '../crypto/signature-algorithm.js';
import { httpMessage } from './http-message.js';
import { buildSignatureBase } from './signature-base.js';
import { serializeSignatureParams } from './signature-fields.js';

interface SigningCredentialCommon {
  readonly id: string;
  readonly apiKey: string;
  /** The callee's service id. Signed as the `tag` parameter: any other service refuses the request. */
  readonly audience: string;
}

/** An hmac-sha256 credential (the default when `algorithm` is absent). */
export interface HmacSigningCredential extends SigningCredentialCommon {
  readonly algorithm?: 'hmac-sha256';
  readonly hmacKey: Uint8Array;
}

/** An ed25519 credential: the caller's private key. */
export interface Ed25519SigningCredential extends SigningCredentialCommon {
  readonly algorithm: 'ed25519';
  /** Optional in the type only because a callee's view of the same credential has none: signing needs it. */
  readonly privateKey?: KeyObject;
}

/** What a signer needs of a credential: one (caller → callee) pair's key. */
export type SigningCredential = HmacSigningCredential | Ed25519SigningCredential;

/** The key a credential signs requests with. */
export function requestSigningKey(credential: SigningCredential): SigningKey {
  if (credential.algorithm === 'ed25519') {
    if (!credential.privateKey) throw new TypeError(`Key "${credential.id}" is an ed25519 public key: it cannot sign`);
    return { algorithm: 'ed25519', key: credential.privateKey };
  }
  return { algorithm: 'hmac-sha256', key: credential.hmacKey };
}

export interface SignRequestInput {
  method: string;
  /** Absolute URL exactly as it will be sent: path and query are signed as they appear here. */
  url: string | URL;
  /** Headers that will be sent; names are matched case-insensitively. */
  headers?: Record<string, string | undefined>;
  /** The exact body bytes that will be sent. */
  body?: Uint8Array;
}

export interface SignRequestOptions {
  /** Extra components to cover (header names or derived components). */
  components?: readonly string[];
  /** Seconds since the epoch; defaults to now. */
  created?: number;
  /** Defaults to 128 random bits, base64url. */
  nonce?: string;
  /** Adds an `expires` parameter this many seconds after `created`. */
  expiresInSeconds?: number;
  label?: string;
}

/**
 * Signs an outgoing request for the credential's audience. Returns the headers to add: X-API-Key, Content-Digest (with a body),
 * Signature-Input and Signature. Call it again for every attempt: each carries a fresh nonce.
 */
export function signRequest(
  input: SignRequestInput,
  credential: SigningCredential,
  options: SignRequestOptions = {},
): Record<string, string> {
  if (typeof credential.audience !== 'string' || credential.audience === '') {
    throw new TypeError('A signing credential needs its audience: the service id of the callee it is for');
  }
  const signingKey = requestSigningKey(credential);
  const url = typeof input.url === 'string' ? new URL(input.url) : input.url;
  const method = input.method.toUpperCase();
  const body = input.body ?? new Uint8Array(0);
  const added: Record<string, string> = { 'x-api-key': credential.apiKey };
  // No prototype: `headers[name]` must not find `constructor` or `__proto__` on Object.prototype
  // (a component would be covered for a header that is not sent), and a header named `__proto__`
  // must be stored as a header rather than replace the prototype.
  const headers = Object.create(null) as Record<string, string | undefined>;
  for (const [name, value] of Object.entries(input.headers ?? {})) headers[name.toLowerCase()] = value;
  Object.assign(headers, added);

  const components: string[] = [...REQUIRED_COMPONENTS];
  if (body.length > 0) {
    if (!headers['content-type']) throw new TypeError('A request with a body needs a Content-Type header to be signed');
    added['content-digest'] = headers['content-digest'] = createContentDigest(body);
    components.push(...BODY_COMPONENTS);
  }
  if (acceptsJwe(headers[ACCEPT_COMPONENT])) components.push(ACCEPT_COMPONENT);
  for (const name of [...COVERED_IF_PRESENT, ...(options.components ?? [])]) {
    if (components.includes(name)) continue;
    if (name.startsWith('@') || headers[name] !== undefined) components.push(name);
  }

  const created = options.created ?? Math.floor(Date.now() / 1000);
  const signatureParams = serializeSignatureParams(components, {
    created,
    expires: options.expiresInSeconds === undefined ? undefined : created + options.expiresInSeconds,
    nonce: options.nonce ?? randomBytes(16).toString('base64url'),
    keyid: credential.id,
    alg: signingKey.algorithm,
    tag: credential.audience,
  });
  const message = httpMessage({
    method,
    target: url.pathname + url.search,
    authority: url.host,
    scheme: url.protocol.slice(0, -1),
    headers,
  });
  const signature = signBase(signingKey, buildSignatureBase(message, components, signatureParams));
  const label = options.label ?? SIGNATURE_LABEL;
  added['signature-input'] = `${label}=${signatureParams}`;
  added['signature'] = `${label}=:${signature.toString('base64')}:`;
  return added;
}
