/**
 * Ed25519 requests and signed answers are plain RFC 9421: PROTOCOL.md's Ed25519 vectors are
 * reproduced by our signer and by a generic implementation (the `http-message-signatures` package,
 * which knows nothing of this library); it verifies our requests and our answers (their `;req`
 * components included), and our verifier accepts an ed25519 request it signs.
 */
import { describe, expect, it } from '@jest/globals';
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { httpbis } from 'http-message-signatures';
import { KeyRing } from '../keys/key-ring.js';
import { publicKeyText } from '../keys/okp-key-text.js';
import { MemoryNonceStore } from '../replay/memory-nonce-store.js';
import { createContentDigest } from './content-digest.js';
import { httpMessage } from './http-message.js';
import { RequestVerifier } from './request-verifier.js';
import { signRequest } from './request-signer.js';
import { signAnswer, verifyAnswer, type AnsweredRequest } from './response-signature.js';

/** RFC 9421 appendix B.1.4's test-key-ed25519: order-service's key in the vectors. */
const CALLER_KEY = createPrivateKey({
  key: Buffer.from('MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF', 'base64'),
  format: 'der',
  type: 'pkcs8',
});
/** RFC 8032 §7.1 TEST 1's secret key: inventory-service's answer key in the vectors. */
const ANSWER_KEY = createPrivateKey({
  key: Buffer.from('302e020100300506032b6570042204209d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex'),
  format: 'der',
  type: 'pkcs8',
});

/** PROTOCOL.md "Ed25519 requests" and "Response signatures": the worked example. */
const VECTOR = {
  apiKey: 'sk_order_service_demo_key_0123456789abcdef',
  keyId: 'order-ed-2026-12',
  created: 1767225600,
  nonce: 'bm9uY2Utb2YtdGhlLWV4YW1wbGU',
  url: 'http://inventory-service:8082/api/inventory?dry=1',
  body: '{"productId":"P123","quantity":2}',
  requestSignatureInput:
    'sig1=("@method" "@path" "@query" "x-api-key" "content-type" "content-digest");created=1767225600;nonce="bm9uY2Utb2YtdGhlLWV4YW1wbGU";keyid="order-ed-2026-12";alg="ed25519";tag="inventory-service"',
  requestSignature: 'sig1=:KsxQcJ9y/Ni1tQMdvSn5xJ31QPi2aYl3lqhdiKki+OUEGyDz+CZGDAC+mxuNCz0QxJl75EbLi46fRJx8MzA9BA==:',
  answer: { status: 200, contentType: 'application/json; charset=utf-8', body: '{"newStock":98}', keyId: 'inventory-answers-1' },
  answerContentDigest: 'sha-256=:TxYYgLSl0m4nmz6kgv5xePzQVg8MXpyc4YBdi3p9jkA=:',
  answerSignatureInput:
    'sig1=("@status" "content-type" "content-digest" "@method";req "@path";req "@query";req "signature";req;key="sig1");created=1767225600;keyid="inventory-answers-1";alg="ed25519"',
  answerSignature: 'sig1=:mzzfjOcLHwxFiVxEFEwiEezzPNpBF8EZCLLDTsgEWCG43OxjuklrEkTliVEXJA1FUdtQDfSC9nbwgkBkRo3zBQ==:',
};

const requestHeaders = () => ({ 'content-type': 'application/json' });

function ourSignedRequest() {
  const body = Buffer.from(VECTOR.body);
  const headers: Record<string, string> = requestHeaders();
  Object.assign(
    headers,
    signRequest(
      { method: 'POST', url: VECTOR.url, headers, body },
      { id: VECTOR.keyId, apiKey: VECTOR.apiKey, audience: 'inventory-service', algorithm: 'ed25519', privateKey: CALLER_KEY },
      { created: VECTOR.created, nonce: VECTOR.nonce },
    ),
  );
  return { headers, body };
}

const genericVerifier = (key: KeyObject, id: string) => ({
  keyLookup: async (params: { keyid?: string; alg?: string }) =>
    params.keyid === id && params.alg === 'ed25519'
      ? { id, algs: ['ed25519'], verify: async (data: Buffer, signature: Buffer) => verify(null, data, key, signature) }
      : null,
});

describe('Ed25519 requests and signed answers, read and written by a generic RFC 9421 library', () => {
  it('our signer reproduces the request vector; so does the generic signer, from the same inputs', async () => {
    const { headers } = ourSignedRequest();
    expect(headers['signature-input']).toBe(VECTOR.requestSignatureInput);
    expect(headers['signature']).toBe(VECTOR.requestSignature);

    const generic = await httpbis.signMessage(
      {
        key: { id: VECTOR.keyId, alg: 'ed25519', sign: async (data: Buffer) => sign(null, data, CALLER_KEY) },
        name: 'sig1',
        params: ['created', 'nonce', 'keyid', 'alg', 'tag'],
        fields: ['@method', '@path', '@query', 'x-api-key', 'content-type', 'content-digest'],
        paramValues: { created: new Date(VECTOR.created * 1000), nonce: VECTOR.nonce, tag: 'inventory-service' },
      },
      {
        method: 'POST',
        url: VECTOR.url,
        headers: {
          ...requestHeaders(),
          'x-api-key': VECTOR.apiKey,
          'content-digest': createContentDigest(Buffer.from(VECTOR.body)),
        },
      },
    );
    const genericHeaders: Record<string, unknown> = generic.headers;
    expect(genericHeaders['Signature-Input']).toBe(VECTOR.requestSignatureInput);
    expect(genericHeaders['Signature']).toBe(VECTOR.requestSignature);
  });

  it('the generic verifier accepts our ed25519 request, and refuses it with the body digest changed', async () => {
    const { headers } = ourSignedRequest();
    const config = genericVerifier(createPublicKey(CALLER_KEY), VECTOR.keyId);
    await expect(httpbis.verifyMessage(config, { method: 'POST', url: VECTOR.url, headers })).resolves.toBe(true);
    const changed = { ...headers, 'content-digest': createContentDigest(Buffer.from('{"productId":"P123","quantity":90}')) };
    await expect(httpbis.verifyMessage(config, { method: 'POST', url: VECTOR.url, headers: changed })).resolves.toBe(false);
  });

  it('our answer signature reproduces the answer vector, and the generic verifier accepts it with its request (;req)', async () => {
    const { headers } = ourSignedRequest();
    const answered: AnsweredRequest = {
      method: 'POST',
      target: '/api/inventory?dry=1',
      signatureLabel: 'sig1',
      signature: Buffer.from(headers['signature'].slice('sig1=:'.length, -1), 'base64'),
    };
    const answerBody = Buffer.from(VECTOR.answer.body);
    const signed = signAnswer(
      { status: VECTOR.answer.status, contentType: VECTOR.answer.contentType, body: answerBody },
      answered,
      { id: VECTOR.answer.keyId, algorithm: 'ed25519', key: ANSWER_KEY },
      VECTOR.created,
    );
    expect(signed['content-digest']).toBe(VECTOR.answerContentDigest);
    expect(signed['signature-input']).toBe(VECTOR.answerSignatureInput);
    expect(signed.signature).toBe(VECTOR.answerSignature);

    const response = { status: VECTOR.answer.status, headers: { 'content-type': VECTOR.answer.contentType, ...signed } };
    const request = { method: 'POST', url: VECTOR.url, headers };
    const config = genericVerifier(createPublicKey(ANSWER_KEY), VECTOR.answer.keyId);
    await expect(httpbis.verifyMessage(config, response, request)).resolves.toBe(true);
    // The same answer presented as the answer to another request (another signature) is refused.
    const other = { ...request, headers: { ...headers, signature: `sig1=:${Buffer.alloc(64, 1).toString('base64')}:` } };
    await expect(httpbis.verifyMessage(config, response, other)).resolves.toBe(false);
    // And our own verifier agrees.
    expect(
      verifyAnswer(
        { status: 200, contentType: VECTOR.answer.contentType, body: answerBody },
        { contentDigest: signed['content-digest'], signatureInput: signed['signature-input'], signature: signed.signature },
        answered,
        () => ({ algorithm: 'ed25519', key: createPublicKey(ANSWER_KEY) }),
      ),
    ).toEqual({ keyId: VECTOR.answer.keyId, created: VECTOR.created });
  });

  it('our verifier accepts a fresh ed25519 request signed by the generic library', async () => {
    const ring = KeyRing.from(
      {
        callers: [
          {
            id: 'order-service',
            keys: [{ id: VECTOR.keyId, apiKey: VECTOR.apiKey, algorithm: 'ed25519', secret: publicKeyText(createPublicKey(CALLER_KEY)) }],
          },
        ],
        answerKeys: [{ id: VECTOR.answer.keyId, key: ANSWER_KEY.export({ format: 'der', type: 'pkcs8' }).toString('base64url') }],
      },
      'inventory-service',
    );
    const body = Buffer.from(VECTOR.body);
    const signed = await httpbis.signMessage(
      {
        key: { id: VECTOR.keyId, alg: 'ed25519', sign: async (data: Buffer) => sign(null, data, CALLER_KEY) },
        name: 'sig1',
        params: ['created', 'nonce', 'keyid', 'alg', 'tag'],
        fields: ['@method', '@path', '@query', 'x-api-key', 'content-type', 'content-digest'],
        paramValues: { created: new Date(), nonce: 'ZnJlc2gtbm9uY2UtZnJvbS1nZW5lcmlj', tag: 'inventory-service' },
      },
      {
        method: 'POST',
        url: 'http://127.0.0.1:8082/api/inventory',
        headers: { ...requestHeaders(), 'x-api-key': VECTOR.apiKey, 'content-digest': createContentDigest(body) },
      },
    );
    const headers = Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
    const verifier = new RequestVerifier(() => ring, new MemoryNonceStore(), { audience: 'inventory-service' });
    await expect(verifier.verify(httpMessage({ method: 'POST', target: '/api/inventory', headers }), body)).resolves.toMatchObject({
      caller: { id: 'order-service', keyId: VECTOR.keyId },
    });
  });
});
