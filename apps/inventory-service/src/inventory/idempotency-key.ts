import { BadRequestException } from '@nestjs/common';

/**
 * 1 to 255 visible ASCII characters (0x21-0x7E). Long enough for any UUID, ULID or hash a client
 * draws; short enough for the store's unique index (a longer key made the database refuse the row,
 * a 500). Visible ASCII only: every HTTP stack reads those bytes the same way, so a retry always
 * names the same record (a Latin-1 byte here would be a UTF-8 sequence elsewhere), and no
 * whitespace or control character ends up in a record or a log line.
 */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/**
 * The Idempotency-Key of a request: undefined when absent or empty (the order is then applied once
 * per request, under a key of its own); 400 `idempotency_key_invalid` when it is not a valid key.
 * The key is never echoed: it is the caller's, and may be long.
 */
export function idempotencyKeyOf(header: string | undefined): string | undefined {
  if (header === undefined || header === '') return undefined;
  if (!IDEMPOTENCY_KEY.test(header)) {
    throw new BadRequestException({
      statusCode: 400,
      error: 'Bad Request',
      reason: 'idempotency_key_invalid',
      message: 'Idempotency-Key must be 1 to 255 visible ASCII characters',
    });
  }
  return header;
}
