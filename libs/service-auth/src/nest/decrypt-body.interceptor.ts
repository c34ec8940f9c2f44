import { Inject, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Observable } from 'rxjs';
import { decryptCompact } from '../crypto/jwe-compact.js';
import { acceptsJwe, isJweMediaType } from '../crypto/jwe-media-type.js';
import { ServiceAuthError } from '../protocol/service-auth.error.js';
import type { VerifiedCaller } from '../protocol/verified-caller.js';
import { ENCRYPTED_EXCHANGE_PROPERTY, type EncryptedExchange } from './encrypted-exchange.js';
import { DEFAULT_MAX_BODY_BYTES, ENCRYPTION_POLICY_METADATA, VERIFIED_CALLER_PROPERTY } from './service-auth.constants.js';
import { ServiceAuthException } from './service-auth.exception.js';
import { ServiceAuthKeys } from './service-auth-keys.service.js';
import { SERVICE_AUTH_OPTIONS } from './service-auth.module-definition.js';
import type { EncryptionPolicy, ServiceAuthModuleOptions } from './service-auth-options.interface.js';
import { nodeRequest } from './raw-body.js';

/**
 * Turns an application/jose body into the JSON object it encrypts, before pipes and the handler
 * run, so `@Body() dto: OrderDto` and validation work unchanged. Runs after the guard: the
 * ciphertext has already been authenticated by the signature, and the key is looked up among the
 * verified caller's keys only.
 */
@Injectable()
export class DecryptBodyInterceptor implements NestInterceptor {
  private readonly defaultPolicy: EncryptionPolicy;
  private readonly maxBodyBytes: number;

  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ServiceAuthKeys,
    @Inject(SERVICE_AUTH_OPTIONS) options: ServiceAuthModuleOptions,
  ) {
    this.defaultPolicy = options.encryption ?? 'optional';
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const policy =
      this.reflector.getAllAndOverride<EncryptionPolicy>(ENCRYPTION_POLICY_METADATA, [context.getHandler(), context.getClass()]) ??
      this.defaultPolicy;
    if (policy === 'off') return next.handle();

    const req = context.switchToHttp().getRequest();
    const headers = nodeRequest(req).headers;
    const caller: VerifiedCaller | undefined = req[VERIFIED_CALLER_PROPERTY];
    const encrypted = isJweMediaType(headers['content-type']);
    try {
      if (encrypted) {
        if (!caller) throw new ServiceAuthError('media_type_unsupported', 'Encrypted bodies are accepted from authenticated callers only');
        req.body = this.open(req.rawBody, caller);
      } else if (policy === 'required' && hasBody(req)) {
        throw new ServiceAuthError('encryption_required', 'This route accepts encrypted bodies only (Content-Type: application/jose)');
      }
    } catch (err) {
      if (err instanceof ServiceAuthError) throw new ServiceAuthException(err.reason, err.message);
      throw err;
    }
    if (caller && (encrypted || acceptsJwe(headers['accept']))) {
      const exchange: EncryptedExchange = { keyId: caller.keyId, nonce: caller.nonce };
      req[ENCRYPTED_EXCHANGE_PROPERTY] = exchange;
    }
    return next.handle();
  }

  private open(rawBody: Buffer | undefined, caller: VerifiedCaller): unknown {
    if (!rawBody || rawBody.length === 0) throw new ServiceAuthError('jwe_malformed', 'The encrypted body is empty');
    const { plaintext } = decryptCompact(rawBody, (kid) => this.keys.ring.findCallerKey(caller.id, kid)?.encryptionKey, {
      maxBytes: this.maxBodyBytes,
    });
    try {
      return JSON.parse(plaintext.toString('utf8'));
    } catch {
      throw new ServiceAuthError('body_malformed', 'The decrypted body is not JSON');
    }
  }
}

function hasBody(req: any): boolean {
  if (Buffer.isBuffer(req.rawBody)) return req.rawBody.length > 0;
  const headers = nodeRequest(req).headers;
  return headers['transfer-encoding'] !== undefined || (headers['content-length'] !== undefined && headers['content-length'] !== '0');
}
