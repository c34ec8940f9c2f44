import { describe, it, expect } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { deriveKeys } from '../keys/key-derivation.js';
import { signRequest } from './request-signer.js';
import { parseSignatureFields } from './signature-fields.js';
import { buildSignatureBase } from './signature-base.js';
import { httpMessage } from './http-message.js';
import { audienceBoundVector } from '../../../../test/support/protocol-vectors.js';

const vector = audienceBoundVector();
const protocolDoc = readFileSync(fileURLToPath(new URL('../../PROTOCOL.md', import.meta.url)), 'utf8');

// The worked example of PROTOCOL.md §1.1 and §2.1, kept as a test vector: if this fails, the document is wrong.
describe('PROTOCOL.md worked example (audience-bound request)', () => {
  const keys = deriveKeys(Buffer.from(vector.secretBase64, 'base64'));

  it('derives the documented HMAC and encryption keys', () => {
    expect(keys.hmacKey.toString('hex')).toBe(vector.hmacKeyHex);
    expect(keys.encryptionKey.toString('hex')).toBe('1993efabae79b330f8b179ad0c44ed0ea5d3faab4399d0695655255739e1ccaa');
  });

  it("the signer produces the vector's headers, audience in `tag`", () => {
    const headers = signRequest(
      { method: vector.request.method, url: vector.request.url, headers: vector.request.headers, body: Buffer.from(vector.request.body) },
      { id: vector.keyId, apiKey: vector.apiKey, hmacKey: keys.hmacKey, audience: vector.audience },
      { created: vector.created, nonce: vector.nonce },
    );
    expect(headers).toEqual(vector.headers);
  });

  it('the signature base is the one printed in the vector', () => {
    const [parsed] = parseSignatureFields(vector.headers['signature-input'], vector.headers.signature);
    const url = new URL(vector.request.url);
    const message = httpMessage({
      method: 'POST',
      target: url.pathname + url.search,
      headers: { ...vector.request.headers, ...vector.headers },
    });
    expect(parsed.components).toEqual(vector.coveredComponents);
    expect(buildSignatureBase(message, parsed.components, parsed.signatureParams)).toBe(vector.signatureBase);
  });

  it('PROTOCOL.md prints the same signature base and headers', () => {
    expect(protocolDoc).toContain(vector.signatureBase);
    for (const [name, value] of Object.entries<string>(vector.headers)) {
      const printed =
        name === 'x-api-key' ? 'X-API-Key' : name.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
      expect(protocolDoc).toContain(`${printed}: ${value}`);
    }
  });
});
