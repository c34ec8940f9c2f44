import { Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller.js';
import { PrometheusMetrics } from './prometheus-metrics.js';

/** Prometheus metrics on `GET /metrics`; exports the PrometheusMetrics whose meter ServiceAuthModule records on. */
@Module({
  providers: [PrometheusMetrics],
  controllers: [MetricsController],
  exports: [PrometheusMetrics],
})
export class MetricsModule {}
