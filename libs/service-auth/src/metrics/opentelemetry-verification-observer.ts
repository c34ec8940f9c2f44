import type { RefusalEvent, VerificationEvent, VerificationObserver } from './verification-observer.js';

/** Counter: one per verification outcome. Prometheus: `service_auth_requests_total`. */
export const REQUESTS_METRIC = 'service_auth.requests';
/** Histogram of the guard's decision time, in seconds. Prometheus: `service_auth_verification_duration_{bucket,sum,count}`. */
export const VERIFICATION_DURATION_METRIC = 'service_auth.verification.duration';

/**
 * Bucket boundaries in seconds. A verification costs a fraction of a millisecond with the memory
 * store and a Redis round trip with Redis (bounded by its 250 ms default budget), so the SDK's
 * default boundaries (0, 5, 10, 25 ... meant for milliseconds) would put every sample in one bucket.
 */
export const VERIFICATION_DURATION_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

/** What a verification was: `outcome` attribute of both instruments. */
export type VerificationOutcome = 'accepted' | 'refused' | 'error';

/** Attribute values are strings here; OpenTelemetry's `Attributes` accepts them. */
export type MetricAttributes = Record<string, string>;

export interface InstrumentOptions {
  description?: string;
  unit?: string;
  advice?: { explicitBucketBoundaries?: number[] };
}

/**
 * The part of an OpenTelemetry `Meter` (@opentelemetry/api ^1.3) this package uses. Declared here,
 * structurally, so that the package's types never import @opentelemetry/api (an optional peer
 * dependency): a real `Meter` is accepted as it is.
 */
export interface MetricsMeter {
  createCounter(name: string, options?: InstrumentOptions): { add(value: number, attributes?: MetricAttributes): void };
  createHistogram(name: string, options?: InstrumentOptions): { record(value: number, attributes?: MetricAttributes): void };
}

interface Instruments {
  requests: ReturnType<MetricsMeter['createCounter']>;
  duration: ReturnType<MetricsMeter['createHistogram']>;
}

/**
 * Records every verification outcome as OpenTelemetry metrics:
 *
 * - `service_auth.requests` (counter, `{request}`), attributes `caller` (service id, or `unknown`),
 *   `route` (the route pattern), `method`, `outcome` (`accepted` | `refused` | `error`) and, on a
 *   refusal, `reason` (the stable reason code).
 * - `service_auth.verification.duration` (histogram, seconds), attributes `route`, `method`, `outcome`.
 *
 * Every attribute has a bounded set of values (configured callers, declared routes, reason codes):
 * never the API key, the path requested (it carries ids), the query or the client address.
 *
 * Given a function, the meter is asked for on the first outcome, not at construction: with
 * `metrics: true` the application may register its global MeterProvider after the Nest
 * application is created (the API's global meters are no-ops until then, and stay so).
 */
export class OpenTelemetryVerificationObserver implements VerificationObserver {
  private instruments: Instruments | undefined;

  constructor(private readonly meter: MetricsMeter | (() => MetricsMeter)) {}

  onVerified(event: VerificationEvent): void {
    this.record(event, 'accepted', undefined);
  }

  onRefused(event: RefusalEvent): void {
    this.record(event, 'refused', event.reason);
  }

  onFailed(event: VerificationEvent): void {
    this.record(event, 'error', undefined);
  }

  private record(event: VerificationEvent, outcome: VerificationOutcome, reason: string | undefined): void {
    const { requests, duration } = (this.instruments ??= this.createInstruments());
    const { route, method } = event;
    const caller = event.caller ?? 'unknown';
    requests.add(1, reason === undefined ? { caller, route, method, outcome } : { caller, route, method, outcome, reason });
    duration.record(event.durationSeconds, { route, method, outcome });
  }

  private createInstruments(): Instruments {
    const meter = typeof this.meter === 'function' ? this.meter() : this.meter;
    return {
      requests: meter.createCounter(REQUESTS_METRIC, {
        description: 'Requests to routes that need a caller, by caller, route and outcome of their verification (and reason of a refusal)',
        unit: '{request}',
      }),
      duration: meter.createHistogram(VERIFICATION_DURATION_METRIC, {
        description: 'Time ServiceAuthGuard spent verifying a request',
        unit: 's',
        advice: { explicitBucketBoundaries: VERIFICATION_DURATION_BUCKETS },
      }),
    };
  }
}
