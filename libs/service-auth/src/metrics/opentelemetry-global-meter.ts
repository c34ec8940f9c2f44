import { requireOptionalPeer } from '../peers/require-optional-peer.cjs';
import type { MetricsMeter } from './opentelemetry-verification-observer.js';

/** The instrumentation scope name of this package's meter (`otel_scope_name` in Prometheus). */
export const METER_NAME = 'nest-service-auth';

interface OpenTelemetryApi {
  metrics: { getMeter(name: string): MetricsMeter };
}

/**
 * `() => metrics.getMeter('nest-service-auth')` over the global MeterProvider of @opentelemetry/api.
 *
 * The API is an optional peer dependency: it is loaded here, when `metrics: true` is configured,
 * never when the package is imported, so that a missing install stops start-up with a message
 * instead of failing the first request. The meter itself is asked for later (see
 * OpenTelemetryVerificationObserver): the API keeps its global provider on `globalThis`, shared by
 * its CommonJS and ESM builds, so the application's own `metrics.setGlobalMeterProvider` is seen.
 */
export function globalMeterSource(): () => MetricsMeter {
  let api: OpenTelemetryApi;
  try {
    api = requireOptionalPeer('@opentelemetry/api') as OpenTelemetryApi;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') {
      throw new Error(
        'ServiceAuthModule: metrics: true needs the optional peer dependency @opentelemetry/api (^1.3): npm install @opentelemetry/api, or pass metrics: { meter } or { observer }',
        { cause: err },
      );
    }
    throw err;
  }
  return () => api.metrics.getMeter(METER_NAME);
}
