import type { ExecutionContext } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import type { KeyObject } from 'node:crypto';
import { decryptCompact, encryptCompact } from '../../crypto/jwe-compact.js';
import { decryptEcdhEs, encryptEcdhEs } from '../../crypto/ecdh-es-jwe.js';
import { parseDecryptedJson } from '../../crypto/decrypted-json.js';
import { acceptsJwe, isJweMediaType, JWE_MEDIA_TYPE } from '../../crypto/jwe-media-type.js';
import type { VerifiedRequest } from '../../protocol/request-verifier.js';
import { ServiceAuthError } from '../../errors/service-auth.error.js';
import { declaresBody } from '../adapters/raw-body.js';
import type { ResolvedServiceAuthOptions } from '../options/resolved-options.js';
import { ENCRYPTION_POLICY_METADATA } from '../options/service-auth.constants.js';
import { ServiceAuthException } from '../verification/service-auth.exception.js';
import type { ServiceAuthKeys } from '../service-auth-keys.service.js';
import { encryptionKeyOf } from '../../keys/key-ring.js';
import type { EncryptionPolicy } from '../options/service-auth-options.interface.js';
import { nodeRequest, type ServiceAuthRequest } from '../adapters/service-auth-request.js';

/** A sealed answer: the body to send, and the status to send it with (which the body is bound to). */
export interface SealedAnswer {
  readonly body: string;
  readonly status: number;
}

/** Turns the handler's answer, about to be sent with `status`, into the sealed answer that is sent instead. */
export type AnswerSealer = (answer: unknown, status: number) => SealedAnswer;

/** What the exchange sets on an Express response or a Fastify reply (both have it). */
export interface SealedResponse {
  header(name: string, value: string): unknown;
}

/**
 * Confidential bodies, both ways, for one exchange:
 * - before the handler, an application/jose body becomes the JSON object it encrypts, so that pipes
 *   and `@Body() dto` work unchanged. It runs once the request is verified: the ciphertext is
 *   already authenticated by the signature, and only the verified caller's keys can open it.
 * - after the handler, the answer is sealed under the key the request was verified with (for an
 *   ed25519 pair, which shares no key: with ECDH-ES to the ephemeral key of the request body), fresh IV,
 *   with the request's nonce and the status sent in the protected header, so that it cannot be passed
 *   off as the answer to another request or moved to another status. That key is the one captured at
 *   verification, not looked up again: a reload that retires it while the handler runs must not turn
 *   an answer whose state change is already made into a 500.
 *
 * Whether the answer is sealed is decided from signed inputs only, so that nobody on the way can
 * downgrade it: an encrypted body (its Content-Type is covered), an `Accept: application/jose` (the
 * verifier refuses one the signature does not cover), or a route whose policy is `required` (every
 * successful answer to a verified caller, whatever Accept says). Every such answer is sealed, "no
 * data" included (as JSON `null`); a 204 (or 205) cannot carry the sealed body and is sent as 200.
 * A handler that writes its own response (`@Res()` without passthrough) is not sealed: Nest sends
 * nothing it returns, and the signing client refuses its plaintext answer to an encrypted call.
 * Error answers are never encrypted: they carry only a status, a reason and a fixed message.
 */
export class EncryptedExchange {
  constructor(
    private readonly keys: ServiceAuthKeys,
    private readonly options: ResolvedServiceAuthOptions,
  ) {}

  /** The route's policy: its handler's @EncryptedBody(), else its controller's, else the module's `encryption`. */
  policyOf(reflector: Reflector, context: ExecutionContext): EncryptionPolicy {
    return (
      reflector.getAllAndOverride<EncryptionPolicy>(ENCRYPTION_POLICY_METADATA, [context.getHandler(), context.getClass()]) ??
      this.options.encryption
    );
  }

  /**
   * Before the handler, on a route whose policy is not 'off': opens an encrypted body into `req.body`,
   * or refuses the request (ServiceAuthException). Returns how to seal the answer when it must be
   * sealed, undefined when it goes out as it is. `verified` is the request as the guard verified it
   * (undefined on a public route).
   */
  begin(
    req: ServiceAuthRequest,
    res: SealedResponse,
    policy: EncryptionPolicy,
    verified: VerifiedRequest | undefined,
    writesResponse: boolean,
  ): AnswerSealer | undefined {
    const headers = nodeRequest(req).headers;
    const encrypted = isJweMediaType(headers['content-type']);
    /** On an ed25519 pair: the caller's ephemeral X25519 key from the request body, which the answer is sealed to. */
    let callerEphemeralKey: KeyObject | undefined;
    try {
      if (encrypted) {
        if (!verified)
          throw new ServiceAuthError('media_type_unsupported', 'Encrypted bodies are accepted from authenticated callers only');
        const opened = this.open(req.rawBody, verified);
        req.body = opened.body;
        callerEphemeralKey = opened.senderKey;
      } else if (policy === 'required' && hasBody(req)) {
        throw new ServiceAuthError('encryption_required', 'This route accepts encrypted bodies only (Content-Type: application/jose)');
      }
    } catch (err) {
      if (err instanceof ServiceAuthError) throw new ServiceAuthException(err.reason, err.message);
      throw err;
    }
    if (!verified || writesResponse) return undefined;
    if (!(encrypted || policy === 'required' || acceptsJwe(headers['accept']))) return undefined;
    if (verified.key.algorithm === 'ed25519' && !callerEphemeralKey) {
      // Refused before the handler runs: an answer that cannot be sealed must not follow a state change.
      throw new ServiceAuthException(
        'jwe_unsupported',
        'A sealed answer to an ed25519 caller is sealed to the ephemeral key of its encrypted request body; this request has none',
      );
    }
    return (answer, status) => this.seal(answer, status, verified, res, callerEphemeralKey);
  }

  /**
   * Opens the body: `dir` under the pair's encryption key (hmac-sha256), or `ECDH-ES` to one of this
   * service's X25519 keys (ed25519, whose pair shares no secret). The suite follows the credential
   * that signed the request, never the JWE header.
   */
  private open(rawBody: Buffer | undefined, verified: VerifiedRequest): { body: unknown; senderKey?: KeyObject } {
    if (!rawBody || rawBody.length === 0) throw new ServiceAuthError('jwe_malformed', 'The encrypted body is empty');
    const maxBytes = this.options.maxBodyBytes;
    let opened: { plaintext: Buffer; senderKey?: KeyObject };
    if (verified.key.algorithm === 'ed25519') {
      opened = decryptEcdhEs(rawBody, (kid) => this.keys.ring.findEncryptionKey(kid)?.privateKey, { maxBytes });
    } else {
      // The body is usually encrypted under the key that signed it: use that one as verified, so a reload
      // between verification and here (other guards may wait on Redis) cannot refuse a request already accepted.
      const { caller, key } = verified;
      const resolve = (kid: string) => encryptionKeyOf(key.id === kid ? key : this.keys.ring.findCallerKey(caller.id, kid));
      opened = decryptCompact(rawBody, resolve, { maxBytes });
    }
    try {
      return { body: parseDecryptedJson(opened.plaintext.toString('utf8')), senderKey: opened.senderKey };
    } catch {
      throw new ServiceAuthError('body_malformed', 'The decrypted body is not JSON, or has a __proto__ or constructor.prototype key');
    }
  }

  private seal(
    data: unknown,
    status: number,
    verified: VerifiedRequest,
    res: SealedResponse,
    callerEphemeralKey?: KeyObject,
  ): SealedAnswer {
    const sent = NO_BODY_STATUSES.has(status) ? 200 : status;
    res.header('content-type', JWE_MEDIA_TYPE);
    const plaintext = Buffer.from(JSON.stringify(data) ?? 'null', 'utf8');
    const header = { kid: verified.key.id, nonce: verified.caller.nonce, status: sent };
    // ed25519: sealed to the request's ephemeral key, which only the caller that made this request holds.
    const body = callerEphemeralKey
      ? encryptEcdhEs(plaintext, callerEphemeralKey, header).jwe
      : encryptCompact(plaintext, encryptionKeyOf(verified.key)!, header);
    return { body, status: sent };
  }
}

/** Statuses whose answers have no body (RFC 9110 §15.3.5, §15.3.6): a sealed answer cannot be sent with them. */
const NO_BODY_STATUSES: ReadonlySet<number> = new Set([204, 205]);

function hasBody(req: ServiceAuthRequest): boolean {
  return Buffer.isBuffer(req.rawBody) ? req.rawBody.length > 0 : declaresBody(nodeRequest(req));
}
