/**
 * What an API key and a secret look like, so that a key list with the two swapped is refused at
 * start-up instead of sending the secret in clear as X-API-Key. generateCredential makes both; the
 * documentation tells operators to make API keys as `sk_` + random characters and secrets as base64
 * of 32 random bytes.
 */

/** How every API key the library generates, and every one the documentation shows, begins. */
export const API_KEY_PREFIX = 'sk_';

export const MIN_SECRET_BYTES = 32;
const BASE64_PATTERN = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** Whether `text` is base64 or base64url at all (padded or not). */
export function isBase64Text(text: string): boolean {
  return BASE64_PATTERN.test(text);
}

/** The bytes of a secret given as base64 or base64url text (the caller checked it with isBase64Text). */
export function decodeBase64Text(text: string): Buffer {
  return Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

/** A secret's shape: base64 or base64url of at least MIN_SECRET_BYTES bytes, not an API key's prefix. */
export function looksLikeSecret(value: string): boolean {
  const text = value.trim();
  return !text.startsWith(API_KEY_PREFIX) && isBase64Text(text) && decodeBase64Text(text).length >= MIN_SECRET_BYTES;
}

/** An API key's shape: it starts with API_KEY_PREFIX. */
export function looksLikeApiKey(value: string): boolean {
  return value.trim().startsWith(API_KEY_PREFIX);
}
