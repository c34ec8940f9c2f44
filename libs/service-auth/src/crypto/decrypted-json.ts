import secureJsonParse from 'secure-json-parse';

/**
 * JSON.parse for a decrypted body or answer, refusing (SyntaxError) a `__proto__` key or a
 * `constructor.prototype`, as Fastify's JSON parser refuses them in a plaintext body: encrypting a
 * body must not be a way past what the plaintext parsers refuse. secure-json-parse is the parser
 * Fastify uses.
 */
export function parseDecryptedJson(text: string): unknown {
  return secureJsonParse(text, null, { protoAction: 'error', constructorAction: 'error' }) as unknown;
}
