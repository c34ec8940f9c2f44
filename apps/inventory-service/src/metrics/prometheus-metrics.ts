import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Meter } from '@opentelemetry/api';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { METER_NAME } from 'nest-service-auth';

/**
 * This service's OpenTelemetry metrics, read in the Prometheus text format on `GET /metrics`
 * (MetricsController) rather than on the exporter's own port: one port to expose, the same route
 * on both HTTP adapters. The MeterProvider is this application's own, not the global one, so that
 * several instances in one process (tests) each count their own requests.
 */
@Injectable()
export class PrometheusMetrics implements OnApplicationShutdown {
  /** The OpenTelemetry text format version the serializer writes. */
  static readonly CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

  private readonly reader = new PrometheusExporter({ preventServerStart: true });
  private readonly provider = new MeterProvider({ readers: [this.reader] });
  private readonly serializer = new PrometheusSerializer();
  /** Handed to ServiceAuthModule (`metrics: { meter }`). */
  readonly meter: Meter = this.provider.getMeter(METER_NAME);

  /** Every metric, cumulative since start-up, in the Prometheus text exposition format. */
  async render(): Promise<string> {
    const { resourceMetrics } = await this.reader.collect();
    return this.serializer.serialize(resourceMetrics);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.provider.shutdown();
  }
}
