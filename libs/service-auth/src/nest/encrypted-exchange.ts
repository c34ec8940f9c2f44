import type { ExecutionContext } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import { decryptCompact, encryptCompact } from '../crypto/jwe-compact.js';
import { acceptsJwe, isJweMediaType, JWE_MEDIA_TYPE } from '../crypto/jwe-media-type.js';
import type { ResolvedKey } from '../keys/key-ring.js';
import { ServiceAuthError } from '../protocol/service-auth.error.js';
import type { VerifiedCaller } from '../protocol/verified-caller.js';
import { declaresBody, nodeRequest } from './raw-body.js';
import { DEFAULT_MAX_BODY_BYTES, ENCRYPTION_POLICY_METADATA } from './service-auth.constants.js';
import { ServiceAuthException } from './service-auth.exception.js';
import type { ServiceAuthKeys } from './service-auth-keys.service.js';
import type { EncryptionPolicy, ServiceAuthModuleOptions } from './service-auth-options.interface.js';

/** Turns the handler's answer into what is sent: sealed, or unchanged when it is undefined. */
export type AnswerSealer = (answer: unknown) => unknown;

/**
 * Confidential bodies, both ways, for one exchange:
 * - before the handler, an application/jose body becomes the JSON object it encrypts, so that pipes
 *   and `@Body() dto` work unchanged. It runs once the request is verified: the ciphertext is
 *   already authenticated by the signature, and only the verified caller's keys can open it.
 * - after the handler, the answer to an encrypted request (or to `Accept: application/jose`) is
 *   encrypted under the key the request was signed with, fresh IV, with the request's nonce in the
 *   protected header so that it cannot be passed off as the answer to another request. That key is
 *   the one captured when the request was verified, not looked up again: a reload that retires it
 *   while the handler runs must not turn an answer whose state change is already made into a 500.
 *   The caller proved it holds that key moments ago; the answer goes to that caller only.
 * Error answers are never encrypted: they carry only a status, a reason and a fixed message.
 *
 * Two places run it: ServiceAuthGuard when the module installs it globally (then there is no
 * interceptor at all, and a plaintext exchange pays nothing for encryption), and
 * EncryptedExchangeInterceptor otherwise (guard: 'manual' or 'none').
 */
export class EncryptedExchange {
  private readonly defaultPolicy: EncryptionPolicy;
  private readonly maxBodyBytes: number;

  constructor(
    private readonly keys: ServiceAuthKeys,
    options: ServiceAuthModuleOptions,
  ) {
    this.defaultPolicy = options.encryption ?? 'optional';
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  }

  /** The route's policy: its handler's @EncryptedBody(), else its controller's, else the module's `encryption`. */
  policyOf(reflector: Reflector, context: ExecutionContext): EncryptionPolicy {
    return reflector.getAllAndOverride<EncryptionPolicy>(ENCRYPTION_POLICY_METADATA, [context.getHandler(), context.getClass()]) ?? this.defaultPolicy;
  }

  /**
   * Before the handler, on a route whose policy is not 'off': opens an encrypted body into `req.body`,
   * or refuses the request (ServiceAuthException). Returns how to seal the answer when it must be
   * sealed, undefined when it goes out as it is. `verifiedKey` is the key the request was verified
   * with, when the verifier handed it over.
   */
  begin(req: any, res: any, policy: EncryptionPolicy, caller: VerifiedCaller | undefined, verifiedKey: ResolvedKey | undefined): AnswerSealer | undefined {
    const headers = nodeRequest(req).headers;
    const encrypted = isJweMediaType(headers['content-type']);
    try {
      if (encrypted) {
        if (!caller) throw new ServiceAuthError('media_type_unsupported', 'Encrypted bodies are accepted from authenticated callers only');
        req.body = this.open(req.rawBody, caller, verifiedKey);
      } else if (policy === 'required' && hasBody(req)) {
        throw new ServiceAuthError('encryption_required', 'This route accepts encrypted bodies only (Content-Type: application/jose)');
      }
    } catch (err) {
      if (err instanceof ServiceAuthError) throw new ServiceAuthException(err.reason, err.message);
      throw err;
    }
    if (!caller || !(encrypted || acceptsJwe(headers['accept']))) return undefined;
    // Resolved now, before the handler runs: what a reload does meanwhile cannot take it away.
    const sealingKey = this.sealingKey(caller, verifiedKey);
    return (answer) => (answer === undefined ? answer : this.seal(answer, caller, sealingKey, res));
  }

  /** The key the answer is sealed with: the verified one (same as caller.keyId), else the ring's current one by that id. */
  private sealingKey(caller: VerifiedCaller, verifiedKey: ResolvedKey | undefined): ResolvedKey | undefined {
    if (verifiedKey && verifiedKey.callerId === caller.id && verifiedKey.id === caller.keyId) return verifiedKey;
    return this.keys.ring.findCallerKey(caller.id, caller.keyId);
  }

  private open(rawBody: Buffer | undefined, caller: VerifiedCaller, verifiedKey: ResolvedKey | undefined): unknown {
    if (!rawBody || rawBody.length === 0) throw new ServiceAuthError('jwe_malformed', 'The encrypted body is empty');
    // The body is usually encrypted under the key that signed it: use that one as verified, so a reload
    // between verification and here (other guards may wait on Redis) cannot refuse a request already accepted.
    const resolve = (kid: string) =>
      verifiedKey && verifiedKey.callerId === caller.id && verifiedKey.id === kid
        ? verifiedKey.encryptionKey
        : this.keys.ring.findCallerKey(caller.id, kid)?.encryptionKey;
    const { plaintext } = decryptCompact(rawBody, resolve, {
      maxBytes: this.maxBodyBytes,
    });
    try {
      return JSON.parse(plaintext.toString('utf8'));
    } catch {
      throw new ServiceAuthError('body_malformed', 'The decrypted body is not JSON');
    }
  }

  private seal(data: unknown, caller: VerifiedCaller, key: ResolvedKey | undefined, res: { header(name: string, value: string): unknown }): string {
    // Only when no guard of this module verified the request (the caller was set by other code) and its
    // key is gone: never fall back to plaintext.
    if (!key) throw new Error('The key of an encrypted exchange was retired before the answer was sent');
    res.header('content-type', JWE_MEDIA_TYPE);
    return encryptCompact(Buffer.from(JSON.stringify(data), 'utf8'), key.encryptionKey, { kid: key.id, nonce: caller.nonce });
  }
}

/** Whether the exchange involves encryption at all: an encrypted body, or an encrypted answer asked for. */
export function mayBeEncryptedExchange(req: any): boolean {
  const headers = nodeRequest(req).headers;
  return isJweMediaType(headers['content-type']) || acceptsJwe(headers['accept']);
}

function hasBody(req: any): boolean {
  return Buffer.isBuffer(req.rawBody) ? req.rawBody.length > 0 : declaresBody(nodeRequest(req));
}
