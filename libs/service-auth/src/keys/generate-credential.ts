import { randomBytes } from 'node:crypto';
import { KeyConfigurationError } from '../errors/key-configuration.error.js';
import { API_KEY_PREFIX, looksLikeApiKey } from './credential-shapes.js';
import { ID_PATTERN } from './key-ring.js';

/** A fresh credential for one (caller → callee) pair, in the text form the key lists hold. */
export interface GeneratedCredential {
  /** `<caller>-<yyyy-mm>-<6 hex>` unless a key id was given. */
  readonly id: string;
  /** `sk_` + 32 random bytes, base64url (46 characters). */
  readonly apiKey: string;
  /** 32 random bytes, base64url (43 characters): the HMAC and encryption keys are derived from it. */
  readonly secret: string;
}

export interface GenerateCredentialOptions {
  /** The key id; by default `<callerId>-<yyyy-mm>-<6 random hex digits>`. */
  keyId?: string;
  /** The date the default key id carries; now by default. */
  now?: Date;
}

const RANDOM_BYTES = 32;
const MAX_ID_LENGTH = 128;

/**
 * The default key id says whose key it is and since when (what an operator wants to see in a log
 * line or a key list), and a random suffix keeps two keys made the same month apart: a rotation
 * that generates the next key right after the first must not collide with it.
 */
function defaultKeyId(callerId: string, now: Date): string {
  const tail = `-${now.toISOString().slice(0, 7)}-${randomBytes(3).toString('hex')}`;
  return `${callerId.slice(0, MAX_ID_LENGTH - tail.length)}${tail}`;
}

/**
 * Generates a credential for calls from `callerId`: an API key and a secret of 32 random bytes each,
 * from the operating system's CSPRNG, in the formats KeyRing accepts. Throws KeyConfigurationError
 * for an id KeyRing would refuse.
 */
export function generateCredential(callerId: string, options: GenerateCredentialOptions = {}): GeneratedCredential {
  if (typeof callerId !== 'string' || !ID_PATTERN.test(callerId)) {
    // The value is not echoed: a key list pasted in the wrong place would put a secret in the message.
    throw new KeyConfigurationError(`a caller id must be 1-${MAX_ID_LENGTH} characters of A-Z a-z 0-9 . _ ~ -`);
  }
  const id = options.keyId ?? defaultKeyId(callerId, options.now ?? new Date());
  if (!ID_PATTERN.test(id)) throw new KeyConfigurationError(`a key id must be 1-${MAX_ID_LENGTH} characters of A-Z a-z 0-9 . _ ~ -`);
  let secret = randomBytes(RANDOM_BYTES).toString('base64url');
  // base64url may begin with the API key prefix (once in 2^18 draws); KeyRing would refuse such a secret.
  while (looksLikeApiKey(secret)) secret = randomBytes(RANDOM_BYTES).toString('base64url');
  return { id, apiKey: `${API_KEY_PREFIX}${randomBytes(RANDOM_BYTES).toString('base64url')}`, secret };
}
