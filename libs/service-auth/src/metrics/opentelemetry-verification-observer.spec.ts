import { describe, expect, it } from '@jest/globals';
import type { Meter } from '@opentelemetry/api';
import {
  DataPointType,
  MeterProvider,
  MetricReader,
  type HistogramMetricData,
  type MetricData,
  type SumMetricData,
} from '@opentelemetry/sdk-metrics';
import {
  OpenTelemetryVerificationObserver,
  REQUESTS_METRIC,
  VERIFICATION_DURATION_BUCKETS,
  VERIFICATION_DURATION_METRIC,
  type MetricsMeter,
} from './opentelemetry-verification-observer.js';

/** Collects on demand, like a Prometheus scrape. */
class TestReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}

  async metrics(): Promise<Map<string, MetricData>> {
    const { resourceMetrics } = await this.collect();
    return new Map(resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).map((m) => [m.descriptor.name, m]));
  }
}

function setUp() {
  const reader = new TestReader();
  const provider = new MeterProvider({ readers: [reader] });
  // A real OpenTelemetry Meter is a MetricsMeter as it is (this line is the type-level check).
  const meter: MetricsMeter = provider.getMeter('nest-service-auth') satisfies Meter;
  return { reader, meter };
}

const ROUTE = '/api/inventory/:productId';

describe('OpenTelemetryVerificationObserver', () => {
  it('counts outcomes by caller, route, method, outcome and (refusals) reason', async () => {
    const { reader, meter } = setUp();
    const observer = new OpenTelemetryVerificationObserver(meter);
    observer.onVerified({ route: ROUTE, method: 'GET', caller: 'order-service', durationSeconds: 0.0004 });
    observer.onVerified({ route: ROUTE, method: 'GET', caller: 'order-service', durationSeconds: 0.0006 });
    observer.onRefused({ route: ROUTE, method: 'GET', caller: undefined, durationSeconds: 0.0001, reason: 'api_key_invalid', status: 401 });
    observer.onRefused({
      route: ROUTE,
      method: 'GET',
      caller: 'audit-service',
      durationSeconds: 0.0003,
      reason: 'caller_not_trusted',
      status: 403,
    });
    observer.onFailed({ route: ROUTE, method: 'GET', caller: 'order-service', durationSeconds: 0.002 });

    const requests = (await reader.metrics()).get(REQUESTS_METRIC) as SumMetricData;
    expect(requests.dataPointType).toBe(DataPointType.SUM);
    expect(requests.descriptor).toMatchObject({ unit: '{request}' });
    expect(requests.dataPoints.map((p) => ({ ...p.attributes, value: p.value }))).toEqual([
      { caller: 'order-service', route: ROUTE, method: 'GET', outcome: 'accepted', value: 2 },
      { caller: 'unknown', route: ROUTE, method: 'GET', outcome: 'refused', reason: 'api_key_invalid', value: 1 },
      { caller: 'audit-service', route: ROUTE, method: 'GET', outcome: 'refused', reason: 'caller_not_trusted', value: 1 },
      { caller: 'order-service', route: ROUTE, method: 'GET', outcome: 'error', value: 1 },
    ]);
  });

  it('records the decision time in seconds, in sub-millisecond buckets, by route, method and outcome only', async () => {
    const { reader, meter } = setUp();
    const observer = new OpenTelemetryVerificationObserver(meter);
    observer.onVerified({ route: ROUTE, method: 'POST', caller: 'order-service', durationSeconds: 0.0004 });
    observer.onVerified({ route: ROUTE, method: 'POST', caller: 'billing-service', durationSeconds: 0.02 });

    const duration = (await reader.metrics()).get(VERIFICATION_DURATION_METRIC) as HistogramMetricData;
    expect(duration.dataPointType).toBe(DataPointType.HISTOGRAM);
    expect(duration.descriptor).toMatchObject({ unit: 's' });
    expect(duration.dataPoints).toHaveLength(1);
    const [point] = duration.dataPoints;
    expect(point.attributes).toEqual({ route: ROUTE, method: 'POST', outcome: 'accepted' });
    expect(point.value.count).toBe(2);
    expect(point.value.sum).toBeCloseTo(0.0204, 10);
    expect(point.value.buckets.boundaries).toEqual(VERIFICATION_DURATION_BUCKETS);
    // 0.0004 s falls in (0.00025, 0.0005], 0.02 s in (0.01, 0.025].
    const counts = point.value.buckets.counts;
    expect(counts[VERIFICATION_DURATION_BUCKETS.indexOf(0.0005)]).toBe(1);
    expect(counts[VERIFICATION_DURATION_BUCKETS.indexOf(0.025)]).toBe(1);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(2);
  });

  it('given a function, asks for the meter on the first outcome only, not at construction', async () => {
    const { reader, meter } = setUp();
    let asked = 0;
    const observer = new OpenTelemetryVerificationObserver(() => {
      asked++;
      return meter;
    });
    expect(asked).toBe(0);
    observer.onVerified({ route: ROUTE, method: 'GET', caller: 'order-service', durationSeconds: 0.001 });
    observer.onVerified({ route: ROUTE, method: 'GET', caller: 'order-service', durationSeconds: 0.001 });
    expect(asked).toBe(1);
    const requests = (await reader.metrics()).get(REQUESTS_METRIC) as SumMetricData;
    expect(requests.dataPoints.map((p) => p.value)).toEqual([2]);
  });
});
