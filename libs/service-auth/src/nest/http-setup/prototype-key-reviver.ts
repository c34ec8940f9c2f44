/**
 * A JSON.parse reviver that refuses what secure-json-parse refuses (and so Fastify's JSON parser, and
 * the parser of decrypted bodies): a `__proto__` key, or a `constructor` object with a `prototype`.
 * JSON.parse makes them own properties, harmless to JSON.parse itself, but code that merges or
 * assigns the body (Object.assign, a deep merge, class-transformer) would reach Object.prototype.
 * body-parser turns the throw into its parse failure, refused as 400 body_malformed.
 */
export function refusePrototypeKeys(key: string, value: unknown): unknown {
  if (key === '__proto__') throw new SyntaxError('Object contains forbidden prototype property');
  if (key === 'constructor' && typeof value === 'object' && value !== null && Object.hasOwn(value, 'prototype')) {
    throw new SyntaxError('Object contains forbidden prototype property');
  }
  return value;
}
