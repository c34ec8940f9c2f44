/**
 * Marks a request whose answer must be encrypted: it came encrypted, or its caller asked for an
 * encrypted answer (Accept: application/jose). Set by DecryptBodyInterceptor, read by
 * EncryptResponseInterceptor.
 */
export interface EncryptedExchange {
  /** The caller key the answer is encrypted under (the key the request was signed with). */
  keyId: string;
  /** The request's signature nonce, echoed in the answer's protected header. */
  nonce: string;
}

export const ENCRYPTED_EXCHANGE_PROPERTY = 'serviceAuthEncryptedExchange';
