import { HttpException, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { firstValueFrom } from 'rxjs';
import {
  OutgoingRequestRefusedError,
  SignedHttpService,
  UpstreamAnswerRefusedError,
  UpstreamHttpError,
  UpstreamUnavailableError,
} from 'nest-service-auth/client';
import { ServiceAuthError } from 'nest-service-auth/core';
import type { CreateOrderDto } from './create-order.dto.js';

export interface InventoryAnswer {
  message: string;
  productId: string;
  newStock?: number;
}

/** Calls inventory-service, signed; turns its failures into answers a client of ours can act on. */
@Injectable()
export class InventoryClient implements OnModuleInit {
  private readonly logger = new Logger('InventoryClient');
  constructor(private readonly http: SignedHttpService) {}

  /** Without the inventory-service upstream configured, the service must not start. */
  onModuleInit(): void {
    this.http.urlFor('inventory-service');
  }

  /**
   * Reserves stock for one order. `idempotencyKey` names this attempt of the order (a random UUID by
   * default): it is signed with the request, and SignedHttpService resends it unchanged on every
   * automatic retry, so the inventory applies the order at most once and answers a repeat with the
   * first outcome. Pass the same key to try the same order again later (e.g. after a 503).
   */
  async reserve(order: CreateOrderDto, idempotencyKey: string = randomUUID()): Promise<InventoryAnswer> {
    try {
      const response = await firstValueFrom(
        this.http.post<InventoryAnswer>(this.http.urlFor('inventory-service', '/api/inventory'), order, {
          headers: { 'idempotency-key': idempotencyKey },
        }),
      );
      return response.data;
    } catch (err) {
      throw this.translate(err);
    }
  }

  private translate(err: unknown): HttpException {
    if (err instanceof UpstreamUnavailableError) {
      // The circuit is open: the inventory failed repeatedly; nothing was sent.
      this.logger.warn({ event: 'upstream_unavailable', upstream: 'inventory-service', reason: err.reason, origin: err.upstream });
      return this.unavailable();
    }
    if (err instanceof UpstreamAnswerRefusedError) {
      // The inventory answered with a redirect (never followed: it would carry our credential elsewhere),
      // with more than we read, or with an answer whose signature is missing or does not verify (changed
      // in transit, or an answer to another request). Either way it is not an answer we can use.
      this.logger.error({
        event: 'upstream_answer_refused',
        upstream: 'inventory-service',
        reason: err.reason,
        status: err.status,
        location: err.location,
        limitBytes: err.limitBytes,
      });
      const message =
        err.reason === 'upstream_redirect'
          ? 'The inventory service answered with a redirect, which is never followed'
          : err.reason === 'upstream_response_too_large'
            ? 'The inventory service answered with more data than allowed'
            : 'The answer from the inventory service is not signed by it, or not for this request';
      return new HttpException({ statusCode: 502, error: 'Bad Gateway', reason: err.reason, message }, 502);
    }
    if (err instanceof OutgoingRequestRefusedError) {
      // Refused before sending: a mistake in how this service calls the inventory, not the inventory's fault.
      this.logger.error({
        event: 'upstream_request_refused',
        upstream: 'inventory-service',
        reason: err.reason,
        option: err.option,
        error: err.message,
      });
      return new HttpException(
        {
          statusCode: 500,
          error: 'Internal Server Error',
          reason: 'order_not_sent',
          message: 'The order could not be sent to the inventory service',
        },
        500,
      );
    }
    if (err instanceof ServiceAuthError) {
      // The inventory answered, but its answer could not be opened (plaintext where JWE was expected, or tampered).
      this.logger.error({ event: 'upstream_answer_refused', upstream: 'inventory-service', reason: err.reason, detail: err.detail });
      return new HttpException(
        { statusCode: 502, error: 'Bad Gateway', reason: 'upstream_error', message: 'The inventory service failed' },
        502,
      );
    }
    if (err instanceof UpstreamHttpError) {
      const { status, reason, keyId } = err;
      const data: unknown = err.response?.data;
      if (status === 401 || status === 403) {
        // Our credentials were refused: a configuration error on one side, not the client's fault. The
        // log names the key and the inventory's reason code (api_key_invalid, caller_not_trusted, …),
        // which is what whoever fixes the configuration needs; the answer carries the reason code only.
        this.logger.error({ event: 'upstream_rejected_credentials', upstream: err.upstreamId, status, reason, keyId });
        return new HttpException(
          {
            statusCode: 502,
            error: 'Bad Gateway',
            reason: 'upstream_rejected_credentials',
            upstreamReason: reason ?? null,
            message: 'The inventory service refused our credentials',
          },
          502,
        );
      }
      if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
        // Business refusals (unknown product, insufficient stock) are the client's to see.
        return new HttpException(typeof data === 'object' && data ? data : { statusCode: status, message: String(data) }, status);
      }
      if (status === 502 || status === 503 || status === 504) {
        // A gateway in front of the inventory, or the inventory itself, says it cannot serve (after our retries).
        this.logger.warn({ event: 'upstream_unavailable', upstream: err.upstreamId, status });
        return this.unavailable();
      }
      this.logger.warn({ event: 'upstream_error', upstream: err.upstreamId, status, reason });
      return new HttpException(
        { statusCode: 502, error: 'Bad Gateway', reason: 'upstream_error', message: 'The inventory service failed' },
        502,
      );
    }
    // No answer (connection refused or cut, timeout), after SignedHttpService's retries.
    this.logger.warn({
      event: 'upstream_unavailable',
      upstream: 'inventory-service',
      error: (err as Error)?.message,
      code: (err as { code?: string })?.code,
    });
    return this.unavailable();
  }

  private unavailable(): HttpException {
    return new HttpException(
      { statusCode: 503, error: 'Service Unavailable', reason: 'upstream_unavailable', message: 'The inventory service is unavailable' },
      503,
    );
  }
}
