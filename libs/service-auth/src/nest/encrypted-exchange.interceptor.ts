import { Inject, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { map, type Observable } from 'rxjs';
import { decryptCompact, encryptCompact } from '../crypto/jwe-compact.js';
import { acceptsJwe, isJweMediaType, JWE_MEDIA_TYPE } from '../crypto/jwe-media-type.js';
import { ServiceAuthError } from '../protocol/service-auth.error.js';
import type { ResolvedKey } from '../keys/key-ring.js';
import type { VerifiedCaller } from '../protocol/verified-caller.js';
import type { ResolvedServiceAuthOptions } from './resolved-options.js';
import { ENCRYPTION_POLICY_METADATA, RESOLVED_OPTIONS, VERIFIED_CALLER_PROPERTY } from './service-auth.constants.js';
import { ServiceAuthException } from './service-auth.exception.js';
import { ServiceAuthKeys } from './service-auth-keys.service.js';
import type { EncryptionPolicy } from './service-auth-options.interface.js';
import { declaresBody } from './raw-body.js';
import { nodeRequest, type ServiceAuthRequest } from './service-auth-request.js';
import { handlerWritesResponse } from './handler-writes-response.js';
import { verifiedKeyOf } from './verified-key.js';

/**
 * Confidential bodies, both ways, for one exchange:
 * - before the handler, an application/jose body becomes the JSON object it encrypts, so that pipes
 *   and `@Body() dto` work unchanged. It runs after the guard: the ciphertext is already
 *   authenticated by the signature, and only the verified caller's keys can open it.
 * - after the handler, the answer to an encrypted request (or to `Accept: application/jose`) is
 *   encrypted under the key the request was signed with, fresh IV, with the request's nonce in the
 *   protected header so that it cannot be passed off as the answer to another request. That key is
 *   the one captured when the guard verified the request, not looked up again: a reload that retires
 *   it while the handler runs must not turn an answer whose state change is already made into a 500.
 *   The caller proved it holds that key moments ago; the answer goes to that caller only.
 *   Every successful answer is sealed, "no data" included (as JSON `null`), and the protected header
 *   also carries the status sent: the client refuses a 2xx answer that is not sealed for its nonce
 *   and its status, so that nobody on the way can replace an answer with an empty `200`, or move a
 *   sealed one to another status. A 204 (or 205) cannot carry the sealed body: it is sent as 200.
 * A plaintext exchange passes straight through: no operator is added to its response stream. So
 * does a handler that writes its own response (`@Res()` without passthrough): Nest sends nothing it
 * returns. Its answer is plaintext, which the signing client refuses for an encrypted call.
 * Error answers are never encrypted: they carry only a status, a reason and a fixed message.
 */
@Injectable()
export class EncryptedExchangeInterceptor implements NestInterceptor {
  private readonly handlersWritingResponse = new WeakMap<object, boolean>();

  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ServiceAuthKeys,
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedServiceAuthOptions,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const policy =
      this.reflector.getAllAndOverride<EncryptionPolicy>(ENCRYPTION_POLICY_METADATA, [context.getHandler(), context.getClass()]) ??
      this.options.encryption;
    if (policy === 'off') return next.handle();

    const req = context.switchToHttp().getRequest<ServiceAuthRequest>();
    const headers = nodeRequest(req).headers;
    const caller = req[VERIFIED_CALLER_PROPERTY];
    const encrypted = isJweMediaType(headers['content-type']);
    const verifiedKey = verifiedKeyOf(req);
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
    if (!caller || !(encrypted || acceptsJwe(headers['accept']))) return next.handle();
    if (this.writesResponse(context)) return next.handle();
    const res = context.switchToHttp().getResponse<HttpResponse>();
    // Resolved now, before the handler runs: what a reload does meanwhile cannot take it away.
    const sealingKey = this.sealingKey(caller, verifiedKey);
    return next.handle().pipe(map((data) => this.seal(data, caller, sealingKey, res)));
  }

  /** Route metadata is fixed once the application is up: read once per handler. */
  private writesResponse(context: ExecutionContext): boolean {
    const handler = context.getHandler();
    let writes = this.handlersWritingResponse.get(handler);
    if (writes === undefined) this.handlersWritingResponse.set(handler, (writes = handlerWritesResponse(context.getClass(), handler)));
    return writes;
  }

  /** The key the answer is sealed with: the verified one (same as caller.keyId), else the ring's current one by that id. */
  private sealingKey(caller: VerifiedCaller, verifiedKey: ResolvedKey | undefined): ResolvedKey | undefined {
    if (verifiedKey && verifiedKey.callerId === caller.id && verifiedKey.id === caller.keyId) return verifiedKey;
    return this.keys.ring.findCallerKey(caller.id, caller.keyId);
  }

  private open(rawBody: Buffer | undefined, caller: VerifiedCaller, verifiedKey: ResolvedKey | undefined): unknown {
    if (!rawBody || rawBody.length === 0) throw new ServiceAuthError('jwe_malformed', 'The encrypted body is empty');
    // The body is usually encrypted under the key that signed it: use that one as verified, so a reload
    // between the guard and here (other guards may wait on Redis) cannot refuse a request already accepted.
    const resolve = (kid: string) =>
      verifiedKey && verifiedKey.callerId === caller.id && verifiedKey.id === kid
        ? verifiedKey.encryptionKey
        : this.keys.ring.findCallerKey(caller.id, kid)?.encryptionKey;
    const { plaintext } = decryptCompact(rawBody, resolve, { maxBytes: this.options.maxBodyBytes });
    try {
      return JSON.parse(plaintext.toString('utf8'));
    } catch {
      throw new ServiceAuthError('body_malformed', 'The decrypted body is not JSON');
    }
  }

  private seal(data: unknown, caller: VerifiedCaller, key: ResolvedKey | undefined, res: HttpResponse): string {
    // Only when no guard of this module verified the request (the caller was set by other code) and its
    // key is gone: never fall back to plaintext.
    if (!key) throw new Error('The key of an encrypted exchange was retired before the answer was sent');
    // Nest has set the status (@HttpCode, or the method's default) before the handler ran.
    if (NO_BODY_STATUSES.has(res.statusCode)) res.status(200);
    res.header('content-type', JWE_MEDIA_TYPE);
    const json = JSON.stringify(data) ?? 'null';
    return encryptCompact(Buffer.from(json, 'utf8'), key.encryptionKey, { kid: key.id, nonce: caller.nonce, status: res.statusCode });
  }
}

/** What the interceptor uses of an Express response or a Fastify reply (both have these members). */
interface HttpResponse {
  statusCode: number;
  status(code: number): unknown;
  header(name: string, value: string): unknown;
}

/** Statuses whose answers have no body (RFC 9110 §15.3.5, §15.3.6): a sealed answer cannot be sent with them. */
const NO_BODY_STATUSES: ReadonlySet<number> = new Set([204, 205]);

function hasBody(req: ServiceAuthRequest): boolean {
  return Buffer.isBuffer(req.rawBody) ? req.rawBody.length > 0 : declaresBody(nodeRequest(req));
}
