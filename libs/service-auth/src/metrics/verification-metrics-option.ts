import { globalMeterSource } from './opentelemetry-global-meter.js';
import { OpenTelemetryVerificationObserver, type MetricsMeter } from './opentelemetry-verification-observer.js';
import type { VerificationObserver } from './verification-observer.js';

/**
 * How verification outcomes are measured (ServiceAuthModuleOptions.metrics):
 * - `false` / unset: not at all (the guard then does no metrics work but a null check);
 * - `true`: OpenTelemetry, on `metrics.getMeter('nest-service-auth')` of the global MeterProvider
 *   (needs the optional peer dependency @opentelemetry/api);
 * - `{ meter }`: OpenTelemetry, on this Meter (e.g. from the application's own MeterProvider);
 * - `{ observer }`: any VerificationObserver (another metrics library, an audit trail).
 */
export type VerificationMetricsOption =
  boolean | { meter: MetricsMeter; observer?: undefined } | { observer: VerificationObserver; meter?: undefined };

/** The observer the guard reports to, or null when metrics are off. Expects a validated option. */
export function createVerificationObserver(option: VerificationMetricsOption | undefined): VerificationObserver | null {
  if (option === undefined || option === false) return null;
  if (option === true) return new OpenTelemetryVerificationObserver(globalMeterSource());
  if (option.observer) return option.observer;
  return new OpenTelemetryVerificationObserver(option.meter);
}
