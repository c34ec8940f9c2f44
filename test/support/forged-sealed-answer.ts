/**
 * What a network attacker can make of an encrypted ed25519 request it sees (PROTOCOL.md §10): the
 * request body's JWE header carries the ephemeral public key (`epk`) the answer is sealed to, and
 * Signature-Input carries the nonce in clear. With both, anyone seals an answer of their choosing
 * that the caller's ephemeral private key opens, with the right nonce and status. Only the answer's
 * response signature (§9) tells it from the callee's.
 */
import { createHash, createPublicKey } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { encryptEcdhEs } from 'nest-service-auth/core';
import type { Answer, ProxiedRequest } from './answer-rewriting-proxy.js';

export interface ForgeryOptions {
  /** The JSON the forged answer carries. */
  plaintext: unknown;
  /** Keep the genuine answer's Signature-Input and Signature (true), or send none. */
  keepSignature: boolean;
}

/** Replaces `answer` with a sealed answer of the attacker's, for the request it answers; its Content-Digest is recomputed. */
export function forgeSealedAnswer(request: ProxiedRequest, answer: Answer, options: ForgeryOptions): Answer {
  const [encodedHeader] = request.body.toString('latin1').split('.');
  const { epk } = JSON.parse(Buffer.from(encodedHeader, 'base64url').toString('utf8')) as { epk: { x: string } };
  const requestKey = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: epk.x }, format: 'jwk' });
  const signatureInput = String(request.headers['signature-input'] ?? '');
  const nonce = /;nonce="([^"]+)"/.exec(signatureInput)?.[1];
  if (!nonce) throw new Error('the request carries no nonce to forge an answer for');
  const { jwe } = encryptEcdhEs(Buffer.from(JSON.stringify(options.plaintext), 'utf8'), requestKey, {
    kid: 'attacker-x25519',
    nonce,
    status: answer.status,
  });
  const body = Buffer.from(jwe, 'latin1');
  // The genuine answer's Content-Type (a sealed one's) is kept: only the body and its digest change.
  const headers: IncomingHttpHeaders = {
    ...answer.headers,
    'content-digest': `sha-256=:${createHash('sha256').update(body).digest('base64')}:`,
  };
  if (!options.keepSignature) {
    delete headers['signature'];
    delete headers['signature-input'];
  }
  return { status: answer.status, headers, body };
}
