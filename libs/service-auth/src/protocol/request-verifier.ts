import type { KeyRing, ResolvedKey } from '../keys/key-ring.js';
import { NonceBudgetExhaustedError } from '../errors/nonce-budget-exhausted.error.js';
import type { NonceClaim, NonceStore } from '../replay/nonce-store.interface.js';
import { checkReplayWindow, type ReplayWindowOptions } from '../replay/replay-window.js';
import { checkContentEncoding } from './content-encoding.js';
import { verifyContentDigest } from './content-digest.js';
import { acceptsJwe } from '../crypto/jwe-media-type.js';
import {
  ACCEPT_COMPONENT,
  BODY_COMPONENTS,
  COVERED_IF_PRESENT,
  MAX_NONCE_LENGTH,
  MIN_NONCE_LENGTH,
  NONCE_PATTERN,
  REQUIRED_COMPONENTS,
} from './covered-components.js';
import { isSignatureAlgorithm, SIGNATURE_ALGORITHMS, verifyBase, type VerificationKey } from '../crypto/signature-algorithm.js';
import type { HttpMessage } from './http-message.js';
import { checkRequestTarget } from './request-target.js';
import { ServiceAuthError } from '../errors/service-auth.error.js';
import { buildSignatureBase, isSupportedComponent } from './signature-base.js';
import type { ParsedSignature } from './parsed-signature.js';
import { parseSignatureFields } from './signature-fields.js';
import type { VerifiedCaller } from './verified-caller.js';
import type { AnsweredRequest } from './response-signature.js';

export interface RequestVerifierOptions extends ReplayWindowOptions {
  /**
   * This service's id. A signature is accepted only when its `tag` names it, so a request signed
   * for another service is worthless here even if it carries a key this service knows.
   */
  audience: string;
  /** Components every signature must cover in addition to the protocol's own minimum. */
  requiredComponents?: readonly string[];
  now?: () => number;
}

/** Decides, after authentication, whether this caller may use the route. */
export type TrustPolicy = (callerId: string) => boolean;

/**
 * A verified request: who called, and the key that proved it, as it was at verification time. The
 * answer to an encrypted exchange is sealed under that key even if a reload retires it meanwhile.
 * `key` holds secrets: keep it out of logs and away from handlers (VerifiedCaller is what they get).
 */
export interface VerifiedRequest {
  caller: VerifiedCaller;
  key: ResolvedKey;
  /** What the answer's signature binds it to: this request's method, target and signature. */
  request: AnsweredRequest;
}

/** What one call of `verify` asks beyond the verifier's own options. */
export interface VerifyOptions {
  /** Whether the authenticated caller may use the route; absent, every authenticated caller may. */
  isTrusted?: TrustPolicy;
  /**
   * Components this request's signature must cover in addition to the verifier's `requiredComponents`:
   * inputs the request is routed by (a version header, say), so that they cannot be changed in transit.
   */
  requiredComponents?: readonly string[];
}

/**
 * Verifies one request, cheapest and least revealing checks first:
 * request target and Content-Encoding (what may be signed at all) →
 * API key (so anonymous traffic never costs a hash of the body) → signature fields → covered
 * components → parameters and audience → key id (that of the API key's credential, and its algorithm) → time window → signature over the signature base → body digest → route trust →
 * nonce (last, so only fully verified requests consume store capacity).
 */
export class RequestVerifier {
  private readonly required: readonly string[];
  private readonly now: () => number;

  constructor(
    private readonly keys: () => KeyRing,
    private readonly nonces: NonceStore,
    private readonly options: RequestVerifierOptions,
  ) {
    if (typeof options?.audience !== 'string' || options.audience === '')
      throw new TypeError("RequestVerifier needs options.audience: this service's id");
    this.required = [...new Set([...REQUIRED_COMPONENTS, ...(options.requiredComponents ?? [])])];
    this.now = options.now ?? Date.now;
  }

  /**
   * The checks that need neither a key nor the body: a request target whose every byte `@path` and
   * `@query` cover, and a body without content coding. `verify` runs them first; an adapter may run
   * them earlier, before it reads the body.
   */
  precheck(message: HttpMessage): void {
    checkRequestTarget(message.target);
    checkContentEncoding(message.header('content-encoding'));
  }

  /**
   * The API-key step on its own: the id of the caller whose API key the message carries, or the
   * refusal (`api_key_missing`, `api_key_invalid`). An adapter may run it before it reads the body, so
   * that a stranger's body is never read; `verify` runs it again (a SHA-256 of the key).
   */
  identifyCaller(message: HttpMessage, ring: KeyRing = this.keys()): string {
    return this.credentialOf(message, ring).callerId;
  }

  /** The credential whose API key the message carries: its key id and secret are the only ones it may sign with. */
  private credentialOf(message: HttpMessage, ring: KeyRing): ResolvedKey {
    const apiKey = message.header('x-api-key');
    if (apiKey === undefined || apiKey === '') throw new ServiceAuthError('api_key_missing', 'X-API-Key header is required');
    const holder = ring.findByApiKey(apiKey);
    if (!holder) throw new ServiceAuthError('api_key_invalid', 'The API key is not valid');
    return holder;
  }

  /** Verifies the request and claims its nonce: the verified request, or the refusal (a ServiceAuthError). */
  async verify(message: HttpMessage, body: Uint8Array, options: VerifyOptions = {}): Promise<VerifiedRequest> {
    const { claim, nonceExpiresAtMs, verified } = this.checkSignature(message, body, options);
    let fresh: boolean;
    try {
      fresh = await this.nonces.claim(claim, nonceExpiresAtMs);
    } catch (err) {
      throw nonceStoreRefusal(err);
    }
    if (!fresh) throw new ServiceAuthError('nonce_replayed', 'This request has already been received');
    return verified;
  }

  /** Every check but the nonce's: what to claim, until when, and the request as it stands verified. */
  private checkSignature(
    message: HttpMessage,
    body: Uint8Array,
    { isTrusted, requiredComponents }: VerifyOptions,
  ): { claim: NonceClaim; nonceExpiresAtMs: number; verified: VerifiedRequest } {
    this.precheck(message);
    const ring = this.keys();
    const credential = this.credentialOf(message, ring);
    const callerId = credential.callerId;

    const signatureInput = message.header('signature-input');
    const signatureValue = message.header('signature');
    if (!signatureInput || !signatureValue) {
      throw new ServiceAuthError('signature_missing', 'Signature-Input and Signature headers are required');
    }
    const signature = this.selectSignature(parseSignatureFields(signatureInput, signatureValue), credential);
    const { params } = signature;

    this.checkCoverage(signature, message, body.length > 0, requiredComponents);
    if (
      params.created === undefined ||
      params.nonce === undefined ||
      params.keyid === undefined ||
      params.alg === undefined ||
      params.tag === undefined
    ) {
      throw new ServiceAuthError('signature_incomplete', 'The signature must carry created, nonce, keyid, alg and tag parameters');
    }
    if (!isSignatureAlgorithm(params.alg)) {
      throw new ServiceAuthError('signature_algorithm_unsupported', `Only ${SIGNATURE_ALGORITHMS.join(' and ')} signatures are accepted`);
    }
    if (params.tag !== this.options.audience) {
      throw new ServiceAuthError('audience_mismatch', 'This request was signed for another service', `tag=${params.tag.slice(0, 128)}`);
    }
    if (params.nonce.length < MIN_NONCE_LENGTH || params.nonce.length > MAX_NONCE_LENGTH || !NONCE_PATTERN.test(params.nonce)) {
      throw new ServiceAuthError(
        'signature_malformed',
        `nonce must be ${MIN_NONCE_LENGTH}-${MAX_NONCE_LENGTH} characters of base64url (A-Z a-z 0-9 - _, no padding; at least 128 random bits)`,
      );
    }
    // The three parts of a credential are bound: the key id (and so the secret) must be those of the
    // credential whose API key was presented, not another active key of the same caller.
    if (params.keyid !== credential.id) {
      const active = ring.findCallerKey(callerId, params.keyid) !== undefined;
      throw new ServiceAuthError(
        'key_unknown',
        active ? 'The key id is not the one of the API key presented' : 'The signing key is not active for this caller',
        `keyid=${params.keyid}`,
      );
    }
    const key: ResolvedKey = credential;
    // The key decides the algorithm: an `alg` naming another one is refused, never followed.
    if (params.alg !== key.algorithm) {
      throw new ServiceAuthError('signature_algorithm_unsupported', `Key ${key.id} signs with ${key.algorithm}, not ${params.alg}`);
    }

    const { nonceExpiresAtMs } = checkReplayWindow({ created: params.created, expires: params.expires }, this.now(), this.options);

    const base = buildSignatureBase(message, signature.components, signature.signatureParams);
    if (!verifyBase(requestVerificationKey(key), base, signature.signature)) {
      throw new ServiceAuthError('signature_invalid', 'The signature does not match the request');
    }
    // The digest header is bound by the signature; now prove it describes the bytes received.
    if (signature.components.includes('content-digest')) verifyContentDigest(message.header('content-digest'), body);

    if (isTrusted && !isTrusted(callerId)) {
      throw new ServiceAuthError('caller_not_trusted', 'This caller is not allowed to use this route', `caller=${callerId}`);
    }

    return {
      claim: { callerId, keyId: key.id, nonce: params.nonce },
      nonceExpiresAtMs,
      verified: {
        caller: { id: callerId, keyId: key.id, nonce: params.nonce, created: params.created },
        key,
        request: { method: message.method, target: message.target, signatureLabel: signature.label, signature: signature.signature },
      },
    };
  }

  /**
   * With several signatures present, the first (in Signature-Input order) whose keyid is the key id of
   * the API key presented counts; without one, the first, which is then refused for its keyid.
   */
  private selectSignature(signatures: ParsedSignature[], credential: ResolvedKey): ParsedSignature {
    if (signatures.length === 1) return signatures[0];
    return signatures.find((s) => s.params.keyid === credential.id) ?? signatures[0];
  }

  private checkCoverage(
    signature: ParsedSignature,
    message: HttpMessage,
    hasBody: boolean,
    alsoRequired: readonly string[] | undefined,
  ): void {
    // The parsers refuse a component listed twice, so the list is the set of covered components.
    const covered = signature.components;
    for (const name of covered) {
      if (!isSupportedComponent(name)) {
        throw new ServiceAuthError('signature_malformed', `Covered component "${name}" is not supported`);
      }
    }
    let missing: string[] | undefined;
    for (const name of this.required) if (!covered.includes(name)) (missing ??= []).push(name);
    if (alsoRequired) {
      for (const name of alsoRequired) if (!covered.includes(name) && !missing?.includes(name)) (missing ??= []).push(name);
    }
    if (hasBody) for (const name of BODY_COMPONENTS) if (!covered.includes(name)) (missing ??= []).push(name);
    for (const name of COVERED_IF_PRESENT) {
      if (!covered.includes(name) && message.header(name) !== undefined) (missing ??= []).push(name);
    }
    if (!covered.includes(ACCEPT_COMPONENT) && acceptsJwe(message.header(ACCEPT_COMPONENT))) (missing ??= []).push(ACCEPT_COMPONENT);
    if (missing) {
      throw new ServiceAuthError('signature_incomplete', `The signature must also cover: ${missing.map((m) => `"${m}"`).join(' ')}`);
    }
  }
}

/** What checks a request signed with `key`: the shared HMAC key, or the caller's Ed25519 public key. */
function requestVerificationKey(key: ResolvedKey): VerificationKey {
  return key.algorithm === 'ed25519' ? { algorithm: 'ed25519', key: key.publicKey } : { algorithm: 'hmac-sha256', key: key.hmacKey };
}

/**
 * A caller at its nonce budget is told to slow down (429, its own doing, with when room comes back);
 * anything else the store throws means it cannot answer for anyone (503, fail closed).
 */
function nonceStoreRefusal(err: unknown): ServiceAuthError {
  if (err instanceof NonceBudgetExhaustedError) {
    return new ServiceAuthError(
      'nonce_budget_exhausted',
      'Too many requests from this caller within the replay window: retry after the number of seconds in Retry-After',
      err.message,
      Math.max(1, Math.ceil(err.retryAfterMs / 1000)),
    );
  }
  return new ServiceAuthError('replay_store_unavailable', 'Replay protection is temporarily unavailable', (err as Error)?.message);
}
