import { createPublicKey, diffieHellman, generateKeyPairSync, hash, type KeyObject } from 'node:crypto';
import { ServiceAuthError } from '../errors/service-auth.error.js';
import {
  JWE_DEFAULT_CTY,
  JWE_ENC,
  openCompact,
  sealWithHeader,
  type DecryptCompactOptions,
  type JweProtectedHeader,
} from './jwe-compact.js';

/**
 * JWE Compact Serialization with key agreement instead of a shared key: `ECDH-ES` over X25519
 * (RFC 7518 §4.6, RFC 8037 §3.2) and `A256GCM`. The sender makes a fresh ephemeral X25519 key per
 * message and puts its public half in the header (`epk`); the content key is the Concat KDF of the
 * agreement with the recipient's key, with AlgorithmID "A256GCM" and empty PartyUInfo/PartyVInfo
 * (`apu`/`apv` absent), so any JOSE library (jose, Nimbus, go-jose, jwcrypto) opens it, and opens
 * what they make. Only the recipient's private key, or the sender's ephemeral private key, can
 * compute the content key again.
 *
 *   {"alg":"ECDH-ES","enc":"A256GCM","kid":"…","epk":{"kty":"OKP","crv":"X25519","x":"…"},"cty":"…",…}
 */
export const ECDH_ES_ALG = 'ECDH-ES';

const X25519_PUBLIC_KEY_BYTES = 32;
/** A256GCM's key size, in bits, as the Concat KDF's SuppPubInfo (RFC 7518 §4.6.2). */
const KEY_DATA_BITS = 256;

export interface EphemeralPublicJwk {
  kty: 'OKP';
  crv: 'X25519';
  x: string;
}

export interface EcdhEsProtectedHeader extends JweProtectedHeader {
  epk: EphemeralPublicJwk;
}

/** What ECDH-ES encryption gives back: the JWE, and the ephemeral private key (to open an answer sealed to its public half). */
export interface EcdhEsSealed {
  readonly jwe: string;
  readonly ephemeralPrivateKey: KeyObject;
  readonly ephemeralPublicKey: KeyObject;
}

/** Header members a sender may not set: they fix the suite and the key agreement. */
const RESERVED_MEMBERS = new Set(['alg', 'enc', 'zip', 'crit', 'epk', 'apu', 'apv']);

/**
 * Encrypts `plaintext` to the X25519 public key `recipient` (a fresh ephemeral key per call).
 * `header.kid` names the recipient's key; other members (a nonce, a status) are integrity-protected.
 */
export function encryptEcdhEs(
  plaintext: Uint8Array,
  recipient: KeyObject,
  header: { kid: string; cty?: string; [member: string]: string | number | undefined },
): EcdhEsSealed {
  if (recipient.asymmetricKeyType !== 'x25519') throw new TypeError('ECDH-ES here needs an X25519 public key');
  if (typeof header.kid !== 'string' || header.kid.length === 0) throw new TypeError('JWE header kid must be a non-empty string');
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  const epk: EphemeralPublicJwk = { kty: 'OKP', crv: 'X25519', x: rawPublicKey(publicKey).toString('base64url') };
  const members: Record<string, unknown> = { alg: ECDH_ES_ALG, enc: JWE_ENC, kid: header.kid, epk, cty: header.cty ?? JWE_DEFAULT_CTY };
  for (const [name, value] of Object.entries(header)) {
    if (name === 'kid' || name === 'cty') continue;
    if (RESERVED_MEMBERS.has(name)) throw new TypeError(`JWE header member "${name}" cannot be set by the caller`);
    if (value !== undefined) members[name] = value;
  }
  const contentKey = agreedContentKey(privateKey, recipient);
  const encodedHeader = Buffer.from(JSON.stringify(members), 'utf8').toString('base64url');
  return { jwe: sealWithHeader(plaintext, contentKey, encodedHeader), ephemeralPrivateKey: privateKey, ephemeralPublicKey: publicKey };
}

/** What decryptEcdhEs gives back: the plaintext, the header, and the sender's ephemeral public key (to seal an answer to). */
export interface DecryptedEcdhEs {
  readonly plaintext: Buffer;
  readonly header: EcdhEsProtectedHeader;
  readonly senderKey: KeyObject;
}

/**
 * Opens an ECDH-ES + A256GCM compact JWE. `resolveKey` maps the header's kid to the recipient's X25519
 * private key (undefined when unknown). Refusals are ServiceAuthErrors, as decryptCompact's:
 * jwe_malformed (no valid X25519 `epk`), jwe_unsupported (`apu`/`apv`, another alg), key_unknown,
 * decryption_failed (a wrong key, a tampered message, a low-order `epk`).
 */
export function decryptEcdhEs(
  input: string | Uint8Array,
  resolveKey: (kid: string) => KeyObject | undefined,
  options?: DecryptCompactOptions,
): DecryptedEcdhEs {
  let senderKey: KeyObject | undefined;
  const { plaintext, header } = openCompact<EcdhEsProtectedHeader>(
    input,
    ECDH_ES_ALG,
    (checked) => {
      // PartyUInfo/PartyVInfo would change the derived key; the profile leaves them empty.
      if (Object.hasOwn(checked, 'apu') || Object.hasOwn(checked, 'apv')) {
        throw new ServiceAuthError('jwe_unsupported', 'JWE apu/apv are not supported: the profile derives the key without them');
      }
      senderKey = ephemeralKeyOf(checked.epk);
      const recipient = resolveKey(checked.kid);
      if (recipient === undefined) return undefined;
      try {
        return agreedContentKey(recipient, senderKey);
      } catch {
        // OpenSSL refuses an agreement that is all zeros (a low-order point as epk).
        throw new ServiceAuthError('decryption_failed', 'JWE decryption failed', 'key agreement failed');
      }
    },
    options,
  );
  return { plaintext, header, senderKey: senderKey! };
}

/** The 32 raw bytes of an X25519 public key (the JWK `x`). */
function rawPublicKey(key: KeyObject): Buffer {
  // SubjectPublicKeyInfo of an X25519 key is a 12-byte prefix and the 32-byte key.
  return key.export({ format: 'der', type: 'spki' }).subarray(-X25519_PUBLIC_KEY_BYTES);
}

function ephemeralKeyOf(epk: unknown): KeyObject {
  if (typeof epk !== 'object' || epk === null || Array.isArray(epk)) throw malformed('epk must be a JWK object');
  const { kty, crv, x } = epk as Record<string, unknown>;
  if (kty !== 'OKP' || crv !== 'X25519')
    throw new ServiceAuthError('jwe_unsupported', 'JWE epk must be an X25519 key (kty OKP, crv X25519)');
  if (typeof x !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(x)) throw malformed('epk x must be 32 bytes of base64url');
  const raw = Buffer.from(x, 'base64url');
  if (raw.length !== X25519_PUBLIC_KEY_BYTES || raw.toString('base64url') !== x)
    throw malformed('epk x must be 32 bytes of canonical base64url');
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x }, format: 'jwk' });
}

/** RFC 7518 §4.6.2: Concat KDF (NIST SP 800-56A §5.8.1) over SHA-256, one round for a 256-bit key. */
function agreedContentKey(privateKey: KeyObject, publicKey: KeyObject): Buffer {
  const z = diffieHellman({ privateKey, publicKey });
  const algorithmId = lengthPrefixed(Buffer.from(JWE_ENC, 'ascii'));
  const partyInfo = lengthPrefixed(Buffer.alloc(0));
  const suppPubInfo = Buffer.alloc(4);
  suppPubInfo.writeUInt32BE(KEY_DATA_BITS);
  const counter = Buffer.from([0, 0, 0, 1]);
  return hash('sha256', Buffer.concat([counter, z, algorithmId, partyInfo, partyInfo, suppPubInfo]), 'buffer');
}

function lengthPrefixed(data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  return Buffer.concat([length, data]);
}

function malformed(detail: string): ServiceAuthError {
  return new ServiceAuthError('jwe_malformed', 'Malformed JWE', detail);
}
