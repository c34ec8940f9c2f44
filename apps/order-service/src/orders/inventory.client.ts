import { HttpException, Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { isAxiosError } from 'axios';
import { randomUUID } from 'node:crypto';
import { firstValueFrom } from 'rxjs';
import { SignedHttpService } from 'nest-service-auth';
import type { CreateOrderDto } from './create-order.dto.js';
import { inventoryUrl } from './inventory-url.js';

export interface InventoryAnswer {
  message: string;
  productId: string;
  newStock?: number;
}

/** Calls inventory-service, signed; turns its failures into answers a client of ours can act on. */
@Injectable()
export class InventoryClient {
  private readonly logger = new Logger('InventoryClient');
  private readonly baseUrl: string;

  constructor(
    private readonly http: SignedHttpService,
    config: ConfigService,
  ) {
    this.baseUrl = inventoryUrl(config);
  }

  async reserve(order: CreateOrderDto, idempotencyKey: string = randomUUID()): Promise<InventoryAnswer> {
    try {
      const response = await firstValueFrom(
        this.http.post<InventoryAnswer>(`${this.baseUrl}/api/inventory`, order, { headers: { 'idempotency-key': idempotencyKey } }),
      );
      return response.data;
    } catch (err) {
      throw this.translate(err);
    }
  }

  private translate(err: unknown): HttpException {
    if (isAxiosError(err) && err.response) {
      const { status, data } = err.response;
      if (status === 401 || status === 403) {
        // Our credentials were refused: a configuration error on one side, not the client's fault.
        this.logger.error({ event: 'upstream_rejected_credentials', upstream: 'inventory-service', status, reason: data?.reason });
        return new HttpException(
          { statusCode: 502, error: 'Bad Gateway', reason: 'upstream_rejected_credentials', message: 'The inventory service refused our credentials' },
          502,
        );
      }
      if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
        // Business refusals (unknown product, insufficient stock) are the client's to see.
        return new HttpException(typeof data === 'object' && data ? data : { statusCode: status, message: String(data) }, status);
      }
      this.logger.warn({ event: 'upstream_error', upstream: 'inventory-service', status });
      return new HttpException({ statusCode: 502, error: 'Bad Gateway', reason: 'upstream_error', message: 'The inventory service failed' }, 502);
    }
    this.logger.warn({ event: 'upstream_unavailable', upstream: 'inventory-service', error: (err as Error)?.message });
    return new HttpException(
      { statusCode: 503, error: 'Service Unavailable', reason: 'upstream_unavailable', message: 'The inventory service is unavailable' },
      503,
    );
  }
}
