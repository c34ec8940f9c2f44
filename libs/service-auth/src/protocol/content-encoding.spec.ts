import { describe, expect, it } from '@jest/globals';
import { checkContentEncoding } from './content-encoding.js';
import { ServiceAuthError } from '../errors/service-auth.error.js';

function reason(value: string | undefined): string | undefined {
  try {
    checkContentEncoding(value);
  } catch (err) {
    if (!(err instanceof ServiceAuthError)) throw err;
    expect(err.status).toBe(415);
    expect(err.message).not.toContain(String(value));
    return err.reason;
  }
  return undefined;
}

describe('checkContentEncoding', () => {
  it.each([undefined, '', ' ', 'identity', 'IDENTITY', 'Identity', ' identity '])('accepts %j (no content coding)', (value) => {
    expect(reason(value)).toBeUndefined();
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
