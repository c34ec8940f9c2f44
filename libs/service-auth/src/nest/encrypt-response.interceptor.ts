import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { map, type Observable } from 'rxjs';
import { encryptCompact } from '../crypto/jwe-compact.js';
import { JWE_MEDIA_TYPE } from '../crypto/jwe-media-type.js';
import { ENCRYPTED_EXCHANGE_PROPERTY, type EncryptedExchange } from './encrypted-exchange.js';
import { ServiceAuthKeys } from './service-auth-keys.service.js';
import { VERIFIED_CALLER_PROPERTY } from './service-auth.constants.js';

/**
 * Encrypts the answer to an encrypted exchange under the caller's key, with a fresh IV and the
 * request's nonce in the protected header, so a captured answer cannot be passed off as the
 * answer to another request. Error responses are not encrypted: they carry only a status, a
 * reason and a fixed message.
 */
@Injectable()
export class EncryptResponseInterceptor implements NestInterceptor {
  constructor(private readonly keys: ServiceAuthKeys) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const http = context.switchToHttp();
    const req = http.getRequest();
    return next.handle().pipe(
      map((data) => {
        const exchange: EncryptedExchange | undefined = req[ENCRYPTED_EXCHANGE_PROPERTY];
        if (!exchange || data === undefined) return data;
        const key = this.keys.ring.findCallerKey(req[VERIFIED_CALLER_PROPERTY].id, exchange.keyId);
        // The key was retired between request and answer: refuse to fall back to plaintext.
        if (!key) throw new Error('The key of an encrypted exchange was retired before the answer was sent');
        const body = Buffer.from(JSON.stringify(data), 'utf8');
        const res = http.getResponse();
        res.header('content-type', JWE_MEDIA_TYPE);
        return encryptCompact(body, key.encryptionKey, { kid: key.id, nonce: exchange.nonce });
      }),
    );
  }
}
