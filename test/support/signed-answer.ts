import type { IncomingMessage } from 'node:http';
import { deriveKeys, signAnswer } from 'nest-service-auth/core';
import type { TestCredential } from './credentials.js';

/**
 * The response-signature headers a callee adds to its answer to `req` (PROTOCOL.md §9), with the
 * hmac-sha256 pair's answer key: for hand-made upstreams that test what the client does behind a valid
 * signature (how it opens a sealed answer), as a real callee's answer would arrive.
 */
export function answerSignatureHeaders(
  req: IncomingMessage,
  credential: TestCredential,
  answer: { status: number; contentType?: string; body?: string },
): Record<string, string> {
  const signature = /^sig1=:([^:]*):$/.exec(String(req.headers['signature']))?.[1] ?? '';
  return signAnswer(
    { status: answer.status, contentType: answer.contentType, body: Buffer.from(answer.body ?? '', 'utf8') },
    { method: req.method ?? 'GET', target: req.url ?? '/', signatureLabel: 'sig1', signature: Buffer.from(signature, 'base64') },
    { id: credential.id, algorithm: 'hmac-sha256', key: deriveKeys(Buffer.from(credential.secret, 'base64url')).answerKey },
  );
}
