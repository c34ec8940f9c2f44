import { Controller, Get, Header } from '@nestjs/common';
import { PublicRoute } from 'nest-service-auth';
import { PrometheusMetrics } from './prometheus-metrics.js';

/**
 * `GET /metrics` for Prometheus. Public like /health: it carries counts per caller id, route
 * pattern and reason code, never a key, a path with ids or a query. Expose it to the monitoring
 * network only (it is as public as the port it is served on).
 */
@Controller('metrics')
@PublicRoute()
export class MetricsController {
  constructor(private readonly metrics: PrometheusMetrics) {}

  @Get()
  @Header('content-type', PrometheusMetrics.CONTENT_TYPE)
  @Header('cache-control', 'no-store')
  scrape(): Promise<string> {
    return this.metrics.render();
  }
}
