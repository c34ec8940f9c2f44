import { afterEach, describe, expect, it } from '@jest/globals';
import { metrics } from '@opentelemetry/api';
import { MeterProvider, MetricReader, type SumMetricData } from '@opentelemetry/sdk-metrics';
import { KeyConfigurationError } from '../errors/key-configuration.error.js';
import { validateOptions } from '../nest/options/validate-options.js';
import { METER_NAME } from './opentelemetry-global-meter.js';
import { OpenTelemetryVerificationObserver, REQUESTS_METRIC } from './opentelemetry-verification-observer.js';
import { createVerificationObserver } from './verification-metrics-option.js';
import type { VerificationObserver } from './verification-observer.js';

class TestReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

const EVENT = { route: '/orders/:id', method: 'GET', caller: 'order-service', durationSeconds: 0.001 };

describe('createVerificationObserver (the `metrics` option)', () => {
  afterEach(() => {
    metrics.disable();
  });

  it('unset or false: no observer, so the guard does nothing but a null check', () => {
    expect(createVerificationObserver(undefined)).toBeNull();
    expect(createVerificationObserver(false)).toBeNull();
  });

  it('{ observer }: that observer; { meter }: OpenTelemetry on that meter', () => {
    const observer: VerificationObserver = { onVerified() {}, onRefused() {} };
    expect(createVerificationObserver({ observer })).toBe(observer);
    const meter = new MeterProvider().getMeter('x');
    expect(createVerificationObserver({ meter })).toBeInstanceOf(OpenTelemetryVerificationObserver);
  });

  it("true: the global MeterProvider's 'nest-service-auth' meter, even when the provider is registered after start-up", async () => {
    const observer = createVerificationObserver(true)!;
    const reader = new TestReader();
    const provider = new MeterProvider({ readers: [reader] });
    expect(metrics.setGlobalMeterProvider(provider)).toBe(true);

    observer.onVerified(EVENT);

    const { resourceMetrics } = await reader.collect();
    const [scope] = resourceMetrics.scopeMetrics;
    expect(scope.scope.name).toBe(METER_NAME);
    const requests = scope.metrics.find((m) => m.descriptor.name === REQUESTS_METRIC) as SumMetricData;
    expect(requests.dataPoints.map((p) => p.value)).toEqual([1]);
  });
});

describe('validateOptions: metrics', () => {
  const options = (metricsOption: unknown) => ({ serviceId: 'inventory-service', metrics: metricsOption }) as never;

  it.each([true, false, undefined])('accepts %s', (value) => {
    expect(() => validateOptions(options(value))).not.toThrow();
  });

  it('accepts { meter } and { observer }', () => {
    expect(() => validateOptions(options({ meter: new MeterProvider().getMeter('x') }))).not.toThrow();
    expect(() => validateOptions(options({ observer: { onVerified() {}, onRefused() {} } }))).not.toThrow();
  });

  it.each([
    ['a string', 'yes'],
    ['an empty object', {}],
    ['both', { meter: new MeterProvider().getMeter('x'), observer: { onVerified() {}, onRefused() {} } }],
    ['a meter that is not one', { meter: { createCounter() {} } }],
    ['an observer without onRefused', { observer: { onVerified() {} } }],
  ])('refuses %s, naming the setting', (_, value) => {
    expect(() => validateOptions(options(value))).toThrow(KeyConfigurationError);
    expect(() => validateOptions(options(value))).toThrow(/metrics must be true, false, \{ meter \}/);
  });
});
