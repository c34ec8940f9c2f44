import { randomBytes } from 'node:crypto';

/**
 * What MemoryNonceStore keeps of a nonce: a 128-bit hash of `keyId:nonce`, as a fresh 8-character
 * string (16 bits per character). A fixed size, whatever the nonce's length (up to 128 characters),
 * so that what a caller's budget costs does not depend on the nonces it chooses
 * (bench/nonce-memory.bench.mjs); a fresh string, so that nothing of the Signature-Input header the
 * nonce was sliced from is kept alive. Caller and key ids cannot contain ':' (KeyRing), so
 * `keyId:nonce` is unambiguous within a caller, and each caller has its own set of keys.
 *
 * Not a cryptographic hash, and it needs not be one: a replay is the same (keyId, nonce), hence the
 * same key, and is always refused. Two different nonces sharing a key only get the second one
 * refused as a replay, and only within the one caller's set. By chance, 128 bits make that vanishingly
 * unlikely. On purpose, MurmurHash3 is no obstacle: pairs that meet whatever the seed can be built
 * from its constants (with characters outside the printable ASCII a Signature-Input carries, so not
 * through a request), but choosing nonces is the signer's privilege, and a signer that makes two of
 * its own nonces meet refuses only its own request (replay/nonce-key.spec.ts shows both). The seed,
 * random per process, only keeps the keys from being known in advance; the store's Set hashes them
 * again with V8's own seeded string hash.
 * Computed in JavaScript, it costs a fraction of a one-shot SHA-256 call per request.
 *
 * MurmurHash3's x86 128-bit block and finalisation functions over the 16-bit code units, taken two
 * per 32-bit word; the last block is padded with zeros, and the length in code units is mixed in at
 * the end, so inputs that differ only by that padding do not meet.
 */
export function nonceKey(keyId: string, nonce: string): string {
  const separator = keyId.length;
  const length = separator + 1 + nonce.length;
  let h1 = SEED1;
  let h2 = SEED2;
  let h3 = SEED3;
  let h4 = SEED4;
  for (let i = 0; i < length; i += 8) {
    let k1 = unitAt(keyId, nonce, separator, length, i) | (unitAt(keyId, nonce, separator, length, i + 1) << 16);
    let k2 = unitAt(keyId, nonce, separator, length, i + 2) | (unitAt(keyId, nonce, separator, length, i + 3) << 16);
    let k3 = unitAt(keyId, nonce, separator, length, i + 4) | (unitAt(keyId, nonce, separator, length, i + 5) << 16);
    let k4 = unitAt(keyId, nonce, separator, length, i + 6) | (unitAt(keyId, nonce, separator, length, i + 7) << 16);

    k1 = Math.imul(rotl(Math.imul(k1, C1), 15), C2);
    h1 ^= k1;
    h1 = (Math.imul(rotl(h1, 19) + h2, 5) + 0x561ccd1b) | 0;
    k2 = Math.imul(rotl(Math.imul(k2, C2), 16), C3);
    h2 ^= k2;
    h2 = (Math.imul(rotl(h2, 17) + h3, 5) + 0x0bcaa747) | 0;
    k3 = Math.imul(rotl(Math.imul(k3, C3), 17), C4);
    h3 ^= k3;
    h3 = (Math.imul(rotl(h3, 15) + h4, 5) + 0x96cd1c35) | 0;
    k4 = Math.imul(rotl(Math.imul(k4, C4), 18), C1);
    h4 ^= k4;
    h4 = (Math.imul(rotl(h4, 13) + h1, 5) + 0x32ac3b17) | 0;
  }
  h1 ^= length;
  h2 ^= length;
  h3 ^= length;
  h4 ^= length;
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  h1 = fmix32(h1);
  h2 = fmix32(h2);
  h3 = fmix32(h3);
  h4 = fmix32(h4);
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  return String.fromCharCode(h1 & 0xffff, h1 >>> 16, h2 & 0xffff, h2 >>> 16, h3 & 0xffff, h3 >>> 16, h4 & 0xffff, h4 >>> 16);
}

const C1 = 0x239b961b;
const C2 = 0xab0e9789;
const C3 = 0x38b34ae5;
const C4 = 0xa1e38b93;
const COLON = 0x3a;

const seed = randomBytes(16);
const SEED1 = seed.readInt32LE(0);
const SEED2 = seed.readInt32LE(4);
const SEED3 = seed.readInt32LE(8);
const SEED4 = seed.readInt32LE(12);

/** The code unit at `i` of `keyId:nonce` (0 past its end), without building that string. */
function unitAt(keyId: string, nonce: string, separator: number, length: number, i: number): number {
  if (i < separator) return keyId.charCodeAt(i);
  if (i === separator) return COLON;
  return i < length ? nonce.charCodeAt(i - separator - 1) : 0;
}

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
