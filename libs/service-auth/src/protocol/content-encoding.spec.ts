import { describe, expect, it } from '@jest/globals';
import { checkContentEncoding } from './content-encoding.js';
import { refusalOf } from '../../test/refusal-of.js';

/** The reason `value` is refused with: always 415, and the message never repeats the value. */
function reason(value: string | undefined): string {
  const refusal = refusalOf(() => checkContentEncoding(value));
  expect(refusal.status).toBe(415);
  expect(refusal.message).not.toContain(String(value));
  return refusal.reason;
}

describe('checkContentEncoding', () => {
  it.each([undefined, '', ' ', 'identity', 'IDENTITY', 'Identity', ' identity '])('accepts %j (no content coding)', (value) => {
    expect(() => checkContentEncoding(value)).not.toThrow();
  });

  it.each([
    'gzip',
    'GZIP',
    'x-gzip',
    'deflate',
    'br',
    'zstd',
    'compress',
    'gzip, identity',
    'identity, gzip',
    'identity, identity',
    'identity,',
    'aes128gcm',
    'constructor',
    '__proto__',
  ])('refuses %j with 415 content_encoding_unsupported', (value) => {
    expect(reason(value)).toBe('content_encoding_unsupported');
  });
});
