import { HttpException } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import { REASON_STATUS, type ReasonCode } from '../../errors/reason-codes.js';

/** The HTTP face of a refusal: `{ statusCode, error, reason, message }`, and nothing else. */
export class ServiceAuthException extends HttpException {
  constructor(
    readonly reason: ReasonCode,
    message: string,
  ) {
    const status = REASON_STATUS[reason];
    super({ statusCode: status, error: STATUS_CODES[status] ?? 'Error', reason, message }, status);
  }
}
