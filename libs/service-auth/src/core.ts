/**
 * `nest-service-auth/core`: the protocol without Nest. Sign a request, verify one, encrypt and
 * decrypt bodies, hold keys and nonces, from any Node.js code or HTTP client.
 *
 * Needs nothing installed beside this package and its own dependencies (no Nest, no axios, no
 * ioredis). The Redis nonce store is `nest-service-auth/redis`.
 */

// Signing and verifying
export {
  signRequest,
  type Ed25519SigningCredential,
  type HmacSigningCredential,
  type SigningCredential,
  type SignRequestInput,
  type SignRequestOptions,
} from './protocol/request-signer.js';
export {
  signAnswer,
  verifyAnswer,
  AnswerSignatureError,
  type AnswerContent,
  type AnsweredRequest,
  type AnswerSignatureHeaders,
  type AnswerSigningKey,
} from './protocol/response-signature.js';
export { signBase, verifyBase, type SignatureAlgorithm, type SigningKey, type VerificationKey } from './crypto/signature-algorithm.js';
export {
  RequestVerifier,
  type RequestVerifierOptions,
  type TrustPolicy,
  type VerifiedRequest,
  type VerifyOptions,
} from './protocol/request-verifier.js';
export { httpMessage, type HttpMessage } from './protocol/http-message.js';
export { createContentDigest, verifyContentDigest } from './protocol/content-digest.js';
export type { VerifiedCaller } from './protocol/verified-caller.js';

// Confidential bodies: JWE compact, dir + A256GCM
export { encryptCompact, decryptCompact, type DecryptedJwe, type JweProtectedHeader } from './crypto/jwe-compact.js';
export { openResponse, openEcdhEsResponse, type ExpectedAnswer } from './crypto/open-response.js';
// …and for ed25519 pairs, which share no secret: ECDH-ES (X25519) + A256GCM
export {
  encryptEcdhEs,
  decryptEcdhEs,
  ECDH_ES_ALG,
  type DecryptedEcdhEs,
  type EcdhEsProtectedHeader,
  type EcdhEsSealed,
  type EphemeralPublicJwk,
} from './crypto/ecdh-es-jwe.js';
export { JWE_MEDIA_TYPE } from './crypto/jwe-media-type.js';

// Keys
export {
  KeyRing,
  encryptionKeyOf,
  type ResolvedAnswerKey,
  type ResolvedEd25519Key,
  type ResolvedEncryptionKey,
  type ResolvedHmacKey,
  type ResolvedKey,
  type ResolvedUpstream,
} from './keys/key-ring.js';
export { answerSigningKey, answerVerificationKey } from './keys/answer-keys.js';
export { generateEd25519KeyText, generateX25519KeyText } from './keys/okp-key-text.js';
export { EnvKeyProvider, type EnvKeyProviderOptions } from './keys/env-key-provider.js';
export { FileKeyProvider, type FileKeyProviderOptions } from './keys/file-key-provider.js';
export { deriveKeys, type DerivedKeys } from './keys/key-derivation.js';
export { generateCredential, type GeneratedCredential, type GenerateCredentialOptions } from './keys/generate-credential.js';
export type { KeyProvider } from './keys/key-provider.interface.js';
export type {
  AnswerKeyDefinition,
  EncryptionKeyDefinition,
  CallerDefinition,
  CredentialAlgorithm,
  CredentialDefinition,
  KeyMaterial,
  UpstreamDefinition,
} from './keys/key-material.js';

// Replay protection
export type { NonceStore, NonceClaim } from './replay/nonce-store.interface.js';
export { MemoryNonceStore, type MemoryNonceStoreOptions } from './replay/memory-nonce-store.js';

// Errors and their stable reason codes
export { ServiceAuthError } from './errors/service-auth.error.js';
export { KeyConfigurationError } from './errors/key-configuration.error.js';
export { ReplayStoreUnavailableError } from './errors/replay-store-unavailable.error.js';
export { NonceBudgetExhaustedError } from './errors/nonce-budget-exhausted.error.js';
export { REASON_STATUS, type ReasonCode } from './errors/reason-codes.js';

// Signed microservice messages (PROTOCOL.md "Signed messages")
export { signMessage, type SignMessageInput } from './messages/message-signer.js';
export { verifyMessage, type IncomingSignedMessage, type VerifiedMessage, type VerifyMessageOptions } from './messages/message-verifier.js';
export type { MessageEncryptionPolicy } from './messages/message-encryption.js';
export {
  signAnswer as signMessageAnswer,
  openSignedAnswer as openSignedMessageAnswer,
  type AnswerKey as MessageAnswerKey,
  type AnswerBinding as MessageAnswerBinding,
} from './messages/signed-answer.js';
export type { SignedMessageEnvelope, SignedAnswerEnvelope, MessageKind } from './messages/message-envelope.js';
export { MessageAnswerRefusedError, type MessageAnswerRefusedReason } from './messages/message-answer-refused.error.js';
