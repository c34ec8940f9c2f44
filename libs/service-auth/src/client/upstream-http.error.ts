import { AxiosError, isAxiosError } from 'axios';

/** Where a failed call went and how it was signed: what a caller needs to act on an error answer. */
export interface UpstreamCallContext {
  /** The configured id of the upstream called (`inventory-service`). */
  readonly upstreamId: string;
  /** The id of the key the request was signed with: the one to look up when the upstream refused it. */
  readonly keyId: string;
}

/** A reason code as nest-service-auth writes them (`signature_invalid`): never free text from the upstream. */
const REASON_CODE = /^[a-z][a-z0-9_]{0,63}$/;

/**
 * Thrown (emitted, by SignedHttpService's Observables) when the upstream answered with an error status
 * (one axios' `validateStatus` does not accept: 4xx and 5xx by default). `reason` is the stable reason
 * code of the answer's JSON body, as every refusal of nest-service-auth carries (`api_key_invalid`,
 * `signature_expired`, …) and as an application may answer too; `upstreamId` and `keyId` say which
 * configured upstream refused which of this service's keys.
 *
 * It is an AxiosError (`isAxiosError(err)`, `err.response.status`, `err.response.data` work as before),
 * already redacted: its config and request hold no API key, signature, nonce or body, so it may be
 * logged whole. Map it to an answer of the calling route (see isUpstreamHttpError); left uncaught it
 * becomes that route's 500.
 */
export class UpstreamHttpError<T = unknown> extends AxiosError<T> {
  override name = 'UpstreamHttpError';
  /** The status the upstream answered with. */
  override readonly status: number;
  /** The answer's reason code, when its body is JSON with a `reason` member of that form; undefined otherwise. */
  readonly reason: string | undefined;
  readonly upstreamId: string;
  readonly keyId: string;
  /** The upstream's origin, `scheme://host:port`, as UpstreamAnswerRefusedError and UpstreamUnavailableError name it. */
  readonly upstream: string;

  /** @internal Built by SignedHttpService from an axios error that redactedError() has redacted. */
  constructor(redacted: AxiosError<T>, origin: string, context: UpstreamCallContext) {
    const status = redacted.response?.status ?? 0;
    const reason = reasonOf(redacted.response?.data);
    const method = redacted.config?.method?.toUpperCase() ?? 'request';
    const path = pathOf(redacted.config?.url);
    super(
      `Upstream ${context.upstreamId} answered ${status}${reason ? ` ${reason}` : ''} to ${method} ${path} ` +
        `(signed with key ${context.keyId})`,
      redacted.code,
      redacted.config,
      redacted.request,
      redacted.response,
    );
    this.status = status;
    this.reason = reason;
    this.upstreamId = context.upstreamId;
    this.keyId = context.keyId;
    this.upstream = origin;
  }
}

export function isUpstreamHttpError(error: unknown): error is UpstreamHttpError {
  return error instanceof UpstreamHttpError;
}

/** The error an attempt's failure becomes when it carries an HTTP answer; undefined for any other failure. */
export function upstreamHttpErrorOf(error: unknown, origin: string, context: UpstreamCallContext): UpstreamHttpError | undefined {
  if (!isAxiosError(error) || !error.response) return undefined;
  return new UpstreamHttpError(error, origin, context);
}

function reasonOf(data: unknown): string | undefined {
  let body = data;
  if (typeof body === 'string' && body.startsWith('{')) {
    try {
      body = JSON.parse(body) as unknown;
    } catch {
      return undefined;
    }
  }
  const reason = body !== null && typeof body === 'object' ? (body as { reason?: unknown }).reason : undefined;
  return typeof reason === 'string' && REASON_CODE.test(reason) ? reason : undefined;
}

function pathOf(url: string | undefined): string {
  if (!url) return '(unknown path)';
  try {
    return new URL(url).pathname;
  } catch {
    return '(unknown path)';
  }
}
