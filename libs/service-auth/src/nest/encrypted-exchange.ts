import type { ExecutionContext } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import { decryptCompact, encryptCompact } from '../crypto/jwe-compact.js';
import { parseDecryptedJson } from '../crypto/decrypted-json.js';
import { acceptsJwe, isJweMediaType, JWE_MEDIA_TYPE } from '../crypto/jwe-media-type.js';
import type { ResolvedKey } from '../keys/key-ring.js';
import { ServiceAuthError } from '../errors/service-auth.error.js';
import type { VerifiedCaller } from '../protocol/verified-caller.js';
import { handlerWritesResponse } from './handler-writes-response.js';
import { declaresBody } from './raw-body.js';
import type { ResolvedServiceAuthOptions } from './resolved-options.js';
import { ENCRYPTION_POLICY_METADATA } from './service-auth.constants.js';
import { ServiceAuthException } from './service-auth.exception.js';
import type { ServiceAuthKeys } from './service-auth-keys.service.js';
import type { EncryptionPolicy } from './service-auth-options.interface.js';
import { nodeRequest, type ServiceAuthRequest } from './service-auth-request.js';

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
 * - after the handler, the answer to an encrypted request (or to `Accept: application/jose`) is
 *   encrypted under the key the request was signed with, fresh IV, with the request's nonce in the
 *   protected header so that it cannot be passed off as the answer to another request. That key is
 *   the one captured when the request was verified, not looked up again: a reload that retires it
 *   while the handler runs must not turn an answer whose state change is already made into a 500.
 *   The caller proved it holds that key moments ago; the answer goes to that caller only.
 *   Every successful answer is sealed, "no data" included (as JSON `null`), and the protected header
 *   also carries the status sent: the client refuses a 2xx answer that is not sealed for its nonce
 *   and its status, so that nobody on the way can replace an answer with an empty `200`, or move a
 *   sealed one to another status. A 204 (or 205) cannot carry the sealed body: it is sent as 200.
 * A handler that writes its own response (`@Res()` without passthrough) is not sealed: Nest sends
 * nothing it returns. Its answer is plaintext, which the signing client refuses for an encrypted call.
 * Error answers are never encrypted: they carry only a status, a reason and a fixed message.
 *
 * Two places run it: ServiceAuthGuard when the module installs it globally (then there is no
 * interceptor at all, and a plaintext exchange pays nothing for encryption), and
 * EncryptedExchangeInterceptor otherwise (guard: 'manual' or 'none').
 */
export class EncryptedExchange {
  private readonly handlersWritingResponse = new WeakMap<object, boolean>();

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

  /** Whether the route's handler writes its own response (route metadata is fixed once the application is up: read once per handler). */
  writesResponse(context: ExecutionContext): boolean {
    const handler = context.getHandler();
    let writes = this.handlersWritingResponse.get(handler);
    if (writes === undefined) this.handlersWritingResponse.set(handler, (writes = handlerWritesResponse(context.getClass(), handler)));
    return writes;
  }

  /**
   * Before the handler, on a route whose policy is not 'off': opens an encrypted body into `req.body`,
   * or refuses the request (ServiceAuthException). Returns how to seal the answer when it must be
   * sealed, undefined when it goes out as it is (a plaintext exchange, or `writesResponse`: a handler
   * that writes its own response). `verifiedKey` is the key the request was verified with, when the
   * verifier handed it over.
   */
  begin(
    req: ServiceAuthRequest,
    res: SealedResponse,
    policy: EncryptionPolicy,
    caller: VerifiedCaller | undefined,
    verifiedKey: ResolvedKey | undefined,
    writesResponse: boolean,
  ): AnswerSealer | undefined {
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
    if (!caller || !(encrypted || acceptsJwe(headers['accept'])) || writesResponse) return undefined;
    // Resolved now, before the handler runs: what a reload does meanwhile cannot take it away.
    const sealingKey = this.sealingKey(caller, verifiedKey);
    return (answer, status) => this.seal(answer, status, caller, sealingKey, res);
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
    const { plaintext } = decryptCompact(rawBody, resolve, { maxBytes: this.options.maxBodyBytes });
    try {
      return parseDecryptedJson(plaintext.toString('utf8'));
    } catch {
      throw new ServiceAuthError('body_malformed', 'The decrypted body is not JSON, or has a __proto__ or constructor.prototype key');
    }
  }

  private seal(data: unknown, status: number, caller: VerifiedCaller, key: ResolvedKey | undefined, res: SealedResponse): SealedAnswer {
    // Only when no guard of this module verified the request (the caller was set by other code) and its
    // key is gone: never fall back to plaintext.
    if (!key) throw new Error('The key of an encrypted exchange was retired before the answer was sent');
    const sent = NO_BODY_STATUSES.has(status) ? 200 : status;
    res.header('content-type', JWE_MEDIA_TYPE);
    const json = JSON.stringify(data) ?? 'null';
    return {
      body: encryptCompact(Buffer.from(json, 'utf8'), key.encryptionKey, { kid: key.id, nonce: caller.nonce, status: sent }),
      status: sent,
    };
  }
}

/** Statuses whose answers have no body (RFC 9110 §15.3.5, §15.3.6): a sealed answer cannot be sent with them. */
const NO_BODY_STATUSES: ReadonlySet<number> = new Set([204, 205]);

/** Whether the exchange involves encryption at all: an encrypted body, or an encrypted answer asked for. */
export function mayBeEncryptedExchange(req: ServiceAuthRequest): boolean {
  const headers = nodeRequest(req).headers;
  return isJweMediaType(headers['content-type']) || acceptsJwe(headers['accept']);
}

function hasBody(req: ServiceAuthRequest): boolean {
  return Buffer.isBuffer(req.rawBody) ? req.rawBody.length > 0 : declaresBody(nodeRequest(req));
}
