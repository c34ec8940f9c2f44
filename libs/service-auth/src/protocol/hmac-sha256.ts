import { hash, timingSafeEqual } from 'node:crypto';

const BLOCK_BYTES = 64;
const DIGEST_BYTES = 32;

/** A key's two padded forms (RFC 2104: K ⊕ ipad, K ⊕ opad), computed once per key, and the bytes they were computed from. */
interface PaddedKey {
  readonly inner: Buffer;
  readonly outer: Buffer;
  readonly from: Uint8Array;
}

const paddedKeys = new WeakMap<Uint8Array, PaddedKey>();

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function paddedKeyOf(key: Uint8Array): PaddedKey {
  let padded = paddedKeys.get(key);
  // Computed again if the key's bytes were changed in place since.
  if (!padded || !sameBytes(padded.from, key)) {
    // Keys longer than a block are hashed first; shorter ones are padded with zeros.
    const k = key.length > BLOCK_BYTES ? (hash('sha256', key, 'buffer') as unknown as Buffer) : key;
    const inner = Buffer.alloc(BLOCK_BYTES, 0x36);
    const outer = Buffer.alloc(BLOCK_BYTES, 0x5c);
    for (let i = 0; i < k.length; i++) {
      inner[i] ^= k[i];
      outer[i] ^= k[i];
    }
    padded = { inner, outer, from: Uint8Array.from(key) };
    paddedKeys.set(key, padded);
  }
  return padded;
}

// Reused between calls (all synchronous, so never two at once): K ⊕ ipad || message, K ⊕ opad || inner
// digest, and the expected MAC of a verification.
let innerInput = Buffer.allocUnsafe(1024);
const outerInput = Buffer.allocUnsafe(BLOCK_BYTES + DIGEST_BYTES);
const expectedMac = Buffer.alloc(DIGEST_BYTES);

/**
 * HMAC-SHA256 per RFC 2104, H((K ⊕ opad) || H((K ⊕ ipad) || m)), made of two one-shot SHA-256 calls
 * (crypto.hash) over buffers kept between calls, with the padded key computed once per key. It gives
 * createHmac's bytes (hmac-sha256.spec.ts checks both against each other and against RFC 4231's
 * vectors) for less than half of what createHmac costs per call on the request path: there, setting
 * up an Hmac object (options, key object, stream plumbing, OpenSSL context) costs more than hashing a
 * signature base. Both digests come back as 32 latin1 characters rather than Buffers: a Buffer made
 * by crypto.hash has an ArrayBuffer of its own, which costs more to allocate and collect than the
 * hash itself; the characters are written where the bytes are needed.
 */
function macOf(key: Uint8Array, signatureBase: string): string {
  const { inner, outer } = paddedKeyOf(key);
  // Room for the worst case (3 UTF-8 bytes per UTF-16 unit), so that write() never truncates.
  const room = BLOCK_BYTES + signatureBase.length * 3;
  if (innerInput.length < room) innerInput = Buffer.allocUnsafe(Math.max(room, innerInput.length * 2));
  inner.copy(innerInput, 0);
  const length = BLOCK_BYTES + innerInput.write(signatureBase, BLOCK_BYTES, 'utf8');
  outer.copy(outerInput, 0);
  outerInput.write(hash('sha256', innerInput.subarray(0, length), 'binary'), BLOCK_BYTES, 'latin1'); // 'binary' is latin1
  const mac = hash('sha256', outerInput, 'binary');
  // No key material left lying in the shared buffers.
  innerInput.fill(0, 0, BLOCK_BYTES);
  outerInput.fill(0, 0, BLOCK_BYTES);
  return mac;
}

/** RFC 9421 §3.3.3 hmac-sha256: HMAC over the UTF-8 signature base. */
export function hmacSha256(key: Uint8Array, signatureBase: string): Buffer {
  return Buffer.from(macOf(key, signatureBase), 'latin1');
}

/** Constant-time check of a received signature; a length mismatch is simply false. */
export function verifyHmacSha256(key: Uint8Array, signatureBase: string, received: Uint8Array): boolean {
  expectedMac.write(macOf(key, signatureBase), 0, 'latin1');
  const valid = received.length === DIGEST_BYTES && timingSafeEqual(expectedMac, received);
  expectedMac.fill(0);
  return valid;
}
