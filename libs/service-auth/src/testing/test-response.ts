import { isJweMediaType } from '../crypto/jwe-media-type.js';
import { openResponse } from '../crypto/open-response.js';

/**
 * An answer as any HTTP client gives it: `fetch`'s Response fields, or supertest's `res`
 * (`status`, `headers`, `text`).
 */
export interface TestAnswer {
  status: number;
  headers: HeadersLike | Record<string, string | string[] | undefined>;
  text: string;
}

/** The Fetch API's `Headers`, by shape (no DOM or undici types needed). */
export interface HeadersLike {
  get(name: string): string | null;
  forEach(callback: (value: string, name: string) => void): void;
}

/**
 * An answer, read: JSON parsed, an encrypted one opened first. `body` is `any` by default, as
 * supertest's `res.body` is: a test reads the fields it expects (`res.body.reason`) and asserts them.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- supertest's convention for a parsed body (above)
export interface TestResponse<T = any> {
  status: number;
  /** Lowercase names. */
  headers: Record<string, string>;
  /** The body as received: JSON text, or the compact JWE of an encrypted answer. */
  text: string;
  /** The parsed JSON, decrypted first when the answer is encrypted; undefined for an empty or non-JSON body. */
  body: T;
  /** True when the answer was a JWE, opened under the caller's key and checked to answer this very request. */
  encrypted: boolean;
}

function lowercaseHeaders(headers: TestAnswer['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof (headers as HeadersLike).forEach === 'function' && typeof (headers as HeadersLike).get === 'function') {
    (headers as HeadersLike).forEach((value, name) => (out[name.toLowerCase()] = value));
    return out;
  }
  for (const [name, value] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
    if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return out;
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Reads the answer to one request. An encrypted answer (`application/jose`) is opened with the
 * caller's key and must carry the request's nonce and the status it came with. When the request
 * asked for an encrypted answer, a successful answer that is not sealed fails, as it does in
 * SignedHttpService: a service that
 * stopped encrypting is a regression the test should see. Refusals are plaintext by design.
 */
export function readAnswer(
  answer: TestAnswer,
  request: { nonce: string; encrypted: boolean },
  resolveKey: (kid: string) => Uint8Array | undefined,
): TestResponse {
  const headers = lowercaseHeaders(answer.headers);
  const text = answer.text ?? '';
  if (isJweMediaType(headers['content-type'])) {
    const plaintext = openResponse(text.trim(), resolveKey, { nonce: request.nonce, status: answer.status }).toString('utf8');
    return { status: answer.status, headers, text, body: parseJson(plaintext), encrypted: true };
  }
  // Every successful answer to an encrypted exchange is sealed, an empty one included (PROTOCOL.md §5.1).
  if (request.encrypted && answer.status >= 200 && answer.status < 300) {
    throw new Error(
      `The service answered ${answer.status} in plaintext (${headers['content-type'] ?? 'no content type'}) to an encrypted request`,
    );
  }
  return { status: answer.status, headers, text, body: parseJson(text), encrypted: false };
}
