import { describe, it, expect } from '@jest/globals';
import { buildSignatureBase } from './signature-base.js';
import { hmacSha256 } from './hmac-sha256.js';
import { httpMessage } from './http-message.js';
import { parseSignatureFields, serializeSignatureParams } from './signature-fields.js';
import { createContentDigest, verifyContentDigest } from './content-digest.js';
import { appendixB25Vector, fullCoverageVector } from '../../../../test/support/protocol-vectors.js';

describe('RFC 9421 appendix B.2.5 (hmac-sha256)', () => {
  const v = appendixB25Vector();
  const key = Buffer.from(v.key.secretBase64, 'base64');
  const message = httpMessage({ method: v.request.method, target: v.request.target, headers: Object.fromEntries(v.request.headers) });

  it('reproduces the signature base byte for byte', () => {
    const [parsed] = parseSignatureFields(v.signatureInput, v.signature);
    expect(parsed.label).toBe(v.label);
    expect(parsed.components).toEqual(v.coveredComponents);
    expect(buildSignatureBase(message, parsed.components, parsed.signatureParams)).toBe(v.signatureBase);
  });

  it('reproduces the signature', () => {
    const [parsed] = parseSignatureFields(v.signatureInput, v.signature);
    const signature = hmacSha256(key, buildSignatureBase(message, parsed.components, parsed.signatureParams));
    expect(`${v.label}=:${signature.toString('base64')}:`).toBe(v.signature);
    expect(signature.equals(parsed.signature)).toBe(true);
  });

  it('computes the RFC 9530 digests of the body', () => {
    const body = Buffer.from(v.request.body);
    expect(createContentDigest(body, 'sha-256')).toBe(v.contentDigestSha256);
    expect(createContentDigest(body, 'sha-512')).toBe(v.contentDigestSha512);
    expect(() => verifyContentDigest(v.contentDigestSha512, body)).not.toThrow();
  });
});

describe('full-coverage hmac-sha256 vector (method, authority, path, query, digest, nonce, alg, tag)', () => {
  const v = fullCoverageVector();
  const url = new URL(v.request.url);
  const message = httpMessage({
    method: v.request.method,
    target: url.pathname + url.search,
    authority: url.host,
    scheme: 'https',
    headers: Object.fromEntries(v.request.headers),
  });

  it('serialises the signature parameters as the vector does', () => {
    expect(`${v.label}=${serializeSignatureParams(v.coveredComponents, v.parameters)}`).toBe(v.signatureInput);
  });

  it('reproduces signature base and signature', () => {
    const [parsed] = parseSignatureFields(v.signatureInput, v.signature);
    const base = buildSignatureBase(message, parsed.components, parsed.signatureParams);
    expect(base).toBe(v.signatureBase);
    const signature = hmacSha256(Buffer.from(v.key.secretBase64, 'base64'), base);
    expect(`${v.label}=:${signature.toString('base64')}:`).toBe(v.signature);
  });

  it('digest header of the vector matches its body', () => {
    expect(createContentDigest(Buffer.from(v.request.body))).toBe(v.request.headers[1][1]);
  });
});
