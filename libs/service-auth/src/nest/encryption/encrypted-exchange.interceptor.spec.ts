import { asHmacKey } from '../../keys/key-ring.js';
import { beforeEach, describe, expect, it, jest } from '@jest/globals';
import { Logger, type CallHandler, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { randomBytes } from 'node:crypto';
import { lastValueFrom, Observable, of } from 'rxjs';
import { decryptCompact, encryptCompact } from '../../crypto/jwe-compact.js';
import type { KeyMaterial } from '../../keys/key-material.js';
import type { VerifiedCaller } from '../../protocol/verified-caller.js';
import { EncryptedExchangeInterceptor } from './encrypted-exchange.interceptor.js';
import { ServiceAuthKeys } from '../service-auth-keys.service.js';
import type { ServiceAuthRequest } from '../adapters/service-auth-request.js';
import { setVerifiedRequest } from '../verification/verified-request.js';
import { resolveOptions } from '../options/resolved-options.js';

const credential = (id: string) => ({
  id,
  apiKey: `sk_${randomBytes(32).toString('base64url')}`,
  secret: randomBytes(32).toString('base64url'),
});
const OLD = credential('order-old');
const NEW = credential('order-new');
const withKeys = (...keys: ReturnType<typeof credential>[]): KeyMaterial => ({ callers: [{ id: 'order-service', keys }] });

class Handler {
  handle() {}
}

function context(req: object, res: object): ExecutionContext {
  return {
    getType: () => 'http',
    getClass: () => Handler,
    getHandler: () => Handler.prototype.handle,
    switchToHttp: () => ({ getRequest: () => req, getResponse: () => res, getNext: () => undefined }),
  } as unknown as ExecutionContext;
}

describe('EncryptedExchangeInterceptor: keys reloaded between verification and answer', () => {
  let material: KeyMaterial;
  let keys: ServiceAuthKeys;
  let interceptor: EncryptedExchangeInterceptor;

  beforeEach(async () => {
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    material = withKeys(OLD, NEW);
    keys = await ServiceAuthKeys.create({ serviceId: 'inventory-service', keyProvider: { load: () => material } });
    interceptor = new EncryptedExchangeInterceptor(new Reflector(), keys, resolveOptions({ serviceId: 'inventory-service' }));
  });

  /** A request as the guard leaves it (unless `verify` is false): verified with OLD, body encrypted under OLD. */
  function verifiedRequest(verify = true) {
    const key = keys.ring.findCallerKey('order-service', OLD.id)!;
    const caller: VerifiedCaller = { id: 'order-service', keyId: OLD.id, nonce: 'n'.repeat(22), created: 1 };
    const rawBody = Buffer.from(
      encryptCompact(Buffer.from('{"quantity":2}'), asHmacKey(key).encryptionKey, { kid: OLD.id, cty: 'application/json' }),
      'latin1',
    );
    const req = {
      headers: { 'content-type': 'application/jose' },
      rawBody,
      body: undefined as unknown,
    };
    if (verify)
      setVerifiedRequest(req as unknown as ServiceAuthRequest, {
        caller,
        key,
        request: { method: 'POST', target: '/x', signatureLabel: 'sig1', signature: Buffer.alloc(32) },
      });
    const headers: Record<string, string> = {};
    // Nest has set the status before the handler runs.
    const res = {
      statusCode: 201,
      status(code: number) {
        this.statusCode = code;
      },
      header: (name: string, value: string) => void (headers[name] = value),
      getHeader: (name: string) => headers[name],
    };
    return { req, res, headers, key, caller };
  }

  async function retireOldKey() {
    material = withKeys(NEW);
    await keys.reload();
    expect(keys.ring.findCallerKey('order-service', OLD.id)).toBeUndefined();
  }

  it('opens the body and seals the answer under the key captured at verification, though a reload removed it', async () => {
    const { req, res, headers, key, caller } = verifiedRequest();
    await retireOldKey();
    const handler: CallHandler = { handle: () => of({ stock: 98 }) };
    const sealed = await lastValueFrom(interceptor.intercept(context(req, res), handler));
    expect(req.body).toEqual({ quantity: 2 });
    expect(headers['content-type']).toMatch(/^application\/jose(;|$)/);
    const { plaintext, header } = decryptCompact(String(sealed), (kid) => (kid === OLD.id ? asHmacKey(key).encryptionKey : undefined));
    expect(JSON.parse(plaintext.toString())).toEqual({ stock: 98 });
    expect(header).toMatchObject({ kid: OLD.id, nonce: caller.nonce });
  });

  it('a reload while the handler runs does not change the key the answer is sealed with', async () => {
    const { req, res, key } = verifiedRequest();
    let finish!: (value: unknown) => void;
    const pending = new Observable<unknown>((subscriber) => {
      finish = (value) => {
        subscriber.next(value);
        subscriber.complete();
      };
    });
    const handler: CallHandler = { handle: () => pending };
    const answer = lastValueFrom(interceptor.intercept(context(req, res), handler));
    await retireOldKey();
    finish({ ok: true });
    const { plaintext } = decryptCompact(String(await answer), (kid) => (kid === OLD.id ? asHmacKey(key).encryptionKey : undefined));
    expect(JSON.parse(plaintext.toString())).toEqual({ ok: true });
  });

  it('opens nothing for a request no guard of this library verified', () => {
    const { req, res } = verifiedRequest(false);
    expect(() => interceptor.intercept(context(req, res), { handle: () => of({ stock: 98 }) })).toThrow(
      expect.objectContaining({ reason: 'media_type_unsupported' }),
    );
    expect(req.body).toBeUndefined();
  });

  it('seals an answer with no data as JSON null, with the status sent in the protected header', async () => {
    const { req, res, headers, key, caller } = verifiedRequest();
    const sealed = await lastValueFrom(interceptor.intercept(context(req, res), { handle: () => of(undefined) }));
    expect(headers['content-type']).toMatch(/^application\/jose(;|$)/);
    const { plaintext, header } = decryptCompact(String(sealed), (kid) => (kid === OLD.id ? asHmacKey(key).encryptionKey : undefined));
    expect(plaintext.toString()).toBe('null');
    expect(header).toMatchObject({ nonce: caller.nonce, status: 201 });
  });

  it.each([204, 205])('a %i cannot carry the sealed answer: sent as 200, and sealed as such', async (status) => {
    const { req, res, key } = verifiedRequest();
    res.statusCode = status;
    const sealed = await lastValueFrom(interceptor.intercept(context(req, res), { handle: () => of(undefined) }));
    expect(res.statusCode).toBe(200);
    const { header } = decryptCompact(String(sealed), (kid) => (kid === OLD.id ? asHmacKey(key).encryptionKey : undefined));
    expect(header).toMatchObject({ status: 200 });
  });
});
