/**
 * The library's reference vectors (libs/service-auth/test/fixtures), read and typed: what each file
 * holds, so that the specs that check the implementation against them read named, typed members.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { SignatureParameters } from '../../libs/service-auth/src/protocol/parsed-signature.js';

/** What both RFC 9421 hmac-sha256 vectors hold besides their request. */
interface Rfc9421Vector {
  source: string;
  key: { id: string; alg: string; secretBase64: string };
  label: string;
  coveredComponents: string[];
  parameters: SignatureParameters;
  signatureBase: string;
  signatureInput: string;
  signature: string;
}

/** RFC 9421 appendix B.2.5 (signing a request using hmac-sha256), with the RFC 9530 digests of its body. */
export interface AppendixB25Vector extends Rfc9421Vector {
  /** Headers in order, as sent. */
  request: { method: string; target: string; headers: [string, string][]; body: string };
  contentDigestSha256: string;
  contentDigestSha512: string;
}

/** The appendix's request with every component and parameter covered, cross-checked by other implementations. */
export interface FullCoverageVector extends Rfc9421Vector {
  /** Headers in order, as sent; the second is Content-Digest. */
  request: { method: string; url: string; headers: [string, string][]; body: string };
}

/** PROTOCOL.md's worked example: a request signed for one audience, with the headers it carries. */
export interface AudienceBoundVector {
  description: string;
  secretBase64: string;
  hmacKeyHex: string;
  keyId: string;
  apiKey: string;
  audience: string;
  created: number;
  nonce: string;
  request: { method: string; url: string; headers: Record<string, string>; body: string };
  coveredComponents: string[];
  signatureBase: string;
  /** The headers the signer adds: x-api-key, content-digest, signature-input, signature. */
  headers: Record<string, string>;
}

function readVector(name: string): unknown {
  return JSON.parse(readFileSync(fileURLToPath(new URL(`../../libs/service-auth/test/fixtures/${name}`, import.meta.url)), 'utf8'));
}

/** rfc9421-b25-hmac-sha256.json. */
export function appendixB25Vector(): AppendixB25Vector {
  return readVector('rfc9421-b25-hmac-sha256.json') as AppendixB25Vector;
}

/** hmac-sha256-full-coverage.json. */
export function fullCoverageVector(): FullCoverageVector {
  return readVector('hmac-sha256-full-coverage.json') as FullCoverageVector;
}

/** audience-bound-hmac-sha256.json, PROTOCOL.md's worked example. */
export function audienceBoundVector(): AudienceBoundVector {
  return readVector('audience-bound-hmac-sha256.json') as AudienceBoundVector;
}
