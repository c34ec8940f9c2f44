import type { AxiosResponse } from 'axios';
import {
  circuitBreaker,
  CircuitState,
  ConsecutiveBreaker,
  handleWhen,
  isBrokenCircuitError,
  isIsolatedCircuitError,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import { isCancellation, isUpstreamFailure } from './upstream-failure.js';
import { UpstreamUnavailableError } from './upstream-unavailable.error.js';
import type { CircuitBreakerOptions } from './circuit-breaker-options.js';

export type { CircuitBreakerOptions } from './circuit-breaker-options.js';

export type UpstreamCircuitState = 'closed' | 'open' | 'half-open' | 'isolated';

export interface UpstreamCircuitBreakersHooks {
  /** Called on every transition, e.g. to log that an upstream's circuit opened or closed. */
  onStateChange?: (upstream: string, state: UpstreamCircuitState) => void;
}

const STATE_NAMES: Record<CircuitState, UpstreamCircuitState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'isolated',
};

/** What the breaker sees of one call: it resolved (maybe with a 5xx a custom validateStatus accepted), or failed without counting. */
type CallOutcome<T> = { response: AxiosResponse<T> } | { error: unknown };

/** The key of an upstream's breaker: `scheme://host:port`, the port always spelled out. */
export function upstreamOrigin(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : url;
  } catch {
    return String(url);
  }
  const port = parsed.port || (parsed.protocol === 'https:' ? '443' : parsed.protocol === 'http:' ? '80' : '');
  return `${parsed.protocol}//${parsed.hostname}${port ? `:${port}` : ''}`;
}

/**
 * One cockatiel circuit breaker per upstream origin, so that one failing upstream never blocks calls to
 * the others. A call counts as failed on a network error, a timeout or a 5xx; a 4xx is an answer (the
 * upstream is up) and counts as a success; a cancelled call does not count. While a circuit is open,
 * calls fail at once with UpstreamUnavailableError (reason 'circuit_open'), nothing is sent. After
 * halfOpenAfterMs the next call is let through as a trial (concurrent calls wait for its verdict): a
 * success closes the circuit, a failure opens it again for another halfOpenAfterMs.
 */
export class UpstreamCircuitBreakers {
  readonly consecutiveFailures: number;
  readonly halfOpenAfterMs: number;
  private readonly breakers = new Map<string, CircuitBreakerPolicy>();

  constructor(
    options: Readonly<Required<CircuitBreakerOptions>>,
    private readonly hooks: UpstreamCircuitBreakersHooks = {},
  ) {
    this.consecutiveFailures = options.consecutiveFailures;
    this.halfOpenAfterMs = options.halfOpenAfterMs;
  }

  /** Current state of an upstream's circuit ('closed' for an upstream never called). */
  state(upstream: string): UpstreamCircuitState {
    const breaker = this.breakers.get(upstream);
    return breaker ? STATE_NAMES[breaker.state] : 'closed';
  }

  /** Runs one call to `upstream` through its breaker. */
  async execute<T>(upstream: string, call: () => Promise<AxiosResponse<T>>): Promise<AxiosResponse<T>> {
    const breaker = this.breakerFor(upstream);
    let outcome: CallOutcome<T>;
    try {
      outcome = await breaker.execute(async (): Promise<CallOutcome<T>> => {
        try {
          return { response: await call() };
        } catch (error) {
          // Failures are thrown to the breaker (and counted); a cancellation is rethrown uncounted;
          // anything else (a 4xx, a refused answer) proves the upstream is up and is handed back as a value.
          if (isUpstreamFailure(error) || isCancellation(error)) throw error;
          return { error };
        }
      });
    } catch (error) {
      if (isBrokenCircuitError(error) || isIsolatedCircuitError(error)) {
        throw new UpstreamUnavailableError(upstream, 'circuit_open', {
          cause: breaker.lastFailure && 'error' in breaker.lastFailure ? breaker.lastFailure.error : undefined,
        });
      }
      throw error;
    }
    if ('error' in outcome) throw outcome.error;
    return outcome.response;
  }

  private breakerFor(upstream: string): CircuitBreakerPolicy {
    let breaker = this.breakers.get(upstream);
    if (!breaker) {
      breaker = circuitBreaker(
        handleWhen(isUpstreamFailure).orWhenResult(
          (outcome) => 'response' in (outcome as CallOutcome<unknown>) && isUpstreamFailure((outcome as { response: unknown }).response),
        ),
        { halfOpenAfter: this.halfOpenAfterMs, breaker: new ConsecutiveBreaker(this.consecutiveFailures) },
      );
      const onStateChange = this.hooks.onStateChange;
      if (onStateChange) breaker.onStateChange((state) => onStateChange(upstream, STATE_NAMES[state]));
      this.breakers.set(upstream, breaker);
    }
    return breaker;
  }
}
