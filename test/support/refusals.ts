/**
 * What every refusal of the library looks like on the wire, and what no response may contain.
 */
import { expect } from '@jest/globals';
import { jsonObject, reasonOf, type RawResponse } from './raw-http.js';

/** `{ statusCode, error, reason, message }`: the body of every refusal. */
export const REFUSAL_KEYS = ['error', 'message', 'reason', 'statusCode'];

/** No secret, no signature, no stack trace, no source path in the body or the headers. */
export function expectNoLeak(res: RawResponse, secrets: readonly string[]): void {
  const everything = res.text + '\n' + JSON.stringify(res.headers);
  for (const secret of secrets) expect(everything).not.toContain(secret);
  expect(res.text).not.toMatch(/(^|\n|\\n)\s*at\s/); // stack frames
  expect(res.text).not.toMatch(/[\w-]+\.(?:ts|js|mjs|cjs)\b/); // source files
  expect(res.text).not.toMatch(/node_modules|\/work\/|file:\/\//);
  expect(res.text).not.toMatch(/stack|TypeError/i);
}

/** Status, reason, exactly the refusal members, a consistent statusCode, and no leak. */
export function expectRefusal(res: RawResponse, status: number, reason: string, secrets: readonly string[]): void {
  expect({ status: res.status, reason: reasonOf(res) }).toEqual({ status, reason });
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  const body = jsonObject(res);
  expect(Object.keys(body).sort()).toEqual(REFUSAL_KEYS);
  expect(body.statusCode).toBe(status);
  expect(typeof body.message).toBe('string');
  expectNoLeak(res, secrets);
}
