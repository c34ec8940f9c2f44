import type { KeyMaterial } from '../../keys/key-material.js';
import type { KeyProvider } from '../../keys/key-provider.interface.js';
import type { NonceStore } from '../../replay/nonce-store.interface.js';
import type { ReplayWindowOptions } from '../../replay/replay-window.js';
import type { VerificationMetricsOption } from '../../metrics/verification-metrics-option.js';
import type { RedisClusterConnectionOptions, RedisSentinelConnectionOptions } from '../../redis/redis-connection-options.js';

export type EncryptionPolicy = 'required' | 'optional' | 'off';

/**
 * An ioredis client (`new Redis(...)`, ioredis 5 or 6), described by the members the module relies on
 * rather than by ioredis' own type: these declarations must not import the optional peer `ioredis`,
 * or every user's type check would need it installed.
 */
export interface IoredisClient {
  readonly status: string;
  set(...args: unknown[]): Promise<unknown>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
}

/**
 * Nonces in Redis: the module creates a RedisNonceStore whose keys are namespaced by `serviceId`
 * (`${keyPrefix}${serviceId}:${callerId}:${keyId}:${nonce}`; on a Cluster `{${serviceId}:${callerId}}`, a hash tag), so
 * callees sharing one Redis never see each other's nonces. One Redis (`url`), a Redis Cluster
 * (`cluster`), a master behind Sentinel (`sentinel`), or an ioredis `Redis`/`Cluster` (`client`).
 * Needs the optional peer dependency `ioredis`.
 */
export type ReplayRedisOptions = (
  | {
      /** `redis://[user:password@]host:port[/db]` or `rediss://…`. The module owns this client and quits it on shutdown. */
      url: string;
      client?: undefined;
      cluster?: undefined;
      sentinel?: undefined;
    }
  | {
      /** An existing ioredis client (`Redis`, Sentinel-configured or not, or `Cluster`). Never closed by the module; its owner handles its 'error' events. */
      client: IoredisClient;
      url?: undefined;
      cluster?: undefined;
      sentinel?: undefined;
    }
  | {
      /** A Redis Cluster: seed nodes (one reachable node is enough) and credentials. The module owns this client. */
      cluster: RedisClusterConnectionOptions;
      url?: undefined;
      client?: undefined;
      sentinel?: undefined;
    }
  | {
      /** A master monitored by Sentinel: the Sentinels, the master group's name, credentials. The module owns this client. */
      sentinel: RedisSentinelConnectionOptions;
      url?: undefined;
      client?: undefined;
      cluster?: undefined;
    }
) & {
  /** Default `'nest-service-auth:nonce:'`. */
  keyPrefix?: string;
  /** Budget for one nonce claim, waiting for the connection included, in ms. Default 250. */
  timeoutMs?: number;
  /**
   * A claim counts only once this many replicas of the master have it (`WAIT`, within `timeoutMs`,
   * default half the claim's budget); otherwise the request gets 503 `replay_store_unavailable`.
   * Closes the asynchronous-replication window of a failover: set it to the number of replicas of
   * each master for "a promoted replica knows every nonce that counted" (SECURITY.md). Default: off.
   */
  waitForReplicas?: { replicas: number; timeoutMs?: number };
};

export interface ReplayOptions extends ReplayWindowOptions {
  /**
   * Where nonces are remembered. Default: in this process (MemoryNonceStore), right for a single
   * instance only. Replicas need a shared store: set `redis` (or pass a shared store here). Setting
   * both `store` and `redis` is a start-up error.
   */
  store?: NonceStore;
  /** Remember nonces in Redis, shared by every replica of this service. */
  redis?: ReplayRedisOptions;
  /**
   * Live nonces ONE caller may have, in the in-memory store or in Redis (counted over every replica
   * sharing it). A caller at its budget (it sent more than this many requests within max age +
   * future skew + 1 s) gets 429 `nonce_budget_exhausted` with `Retry-After` until its oldest nonce
   * expires; other callers are not affected. Memory is bounded by (configured callers) ×
   * maxNoncesPerCaller × about 70 bytes in memory, about 330 bytes in Redis. Default 1 000 000:
   * about 3 300 requests per second per caller with the default window. Setting it with `store` is a
   * start-up error (that store bounds itself).
   */
  maxNoncesPerCaller?: number;
}

/**
 * How ServiceAuthGuard is installed:
 * - `'global'` (default): on every HTTP route. A route without @PublicRoute() needs a verified caller;
 *   with no callers configured, every such route is refused (and start-up says so).
 * - `'manual'`: the guard is provided but not registered; the application registers it itself (its
 *   own subclass as APP_GUARD, after its other guards, or with @UseGuards on some controllers).
 *   The early stranger check of ServiceAuthModule.setup then refuses only on routes that declare
 *   they need a caller (ServiceAuthGuard in their @UseGuards, @TrustedCaller, a @Caller() parameter).
 * A service that accepts no signed callers does not register ServiceAuthModule at all; to call other
 * services it imports SignedHttpModule.register() (`nest-service-auth/client`) alone.
 */
export type GuardInstallation = 'global' | 'manual';

export interface LoggingOptions {
  /**
   * Refusals of requests that were not verified logged in full per reason and second: per route for
   * those naming no known caller, per caller for those naming one by its API key alone (which anyone
   * who has seen it can send). The others of that second are counted, and one line at its end says
   * how many (`service_auth_rejected_suppressed`), so that a flood of garbage is not also a flood of
   * log lines. Metrics count every refusal; refusals of a verified caller are always logged.
   * `Infinity` logs every one. Default 10.
   */
  strangerRefusalsPerSecond?: number;
}

export interface ServiceAuthModuleOptions {
  /**
   * This service's id (e.g. `inventory-service`). Every signature this service accepts must name it
   * as its audience (`tag`), and its callers know it under this id.
   */
  serviceId: string;
  /** Default `'global'`: see GuardInstallation. */
  guard?: GuardInstallation;
  /**
   * Keys held directly in the options. Prefer `keyProvider` (or nothing: the environment is read)
   * so that keys can be reloaded without a restart.
   */
  keys?: KeyMaterial;
  /** Supplies keys at start-up and on `ServiceAuthKeys.reload()`. Default: EnvKeyProvider over process.env. */
  keyProvider?: KeyProvider;
  replay?: ReplayOptions;
  /** Largest request body accepted, in bytes. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Components every inbound signature must cover, beyond the protocol minimum. */
  requiredComponents?: string[];
  /** Default policy for encrypted request bodies on routes without @EncryptedBody(). Default 'optional'. */
  encryption?: EncryptionPolicy;
  /**
   * Sign every answer a handler returns to a verified caller (RFC 9421 response signature, bound to
   * its request), with the pair's answer key (hmac-sha256) or this service's own answer key
   * (ed25519 callers). SignedHttpService refuses unsigned answers by default. Default true.
   */
  signAnswers?: boolean;
  /**
   * Metrics of every decision of ServiceAuthGuard (see VerificationMetricsOption): `true` for
   * OpenTelemetry through the global MeterProvider (needs @opentelemetry/api), `{ meter }` for a
   * given OpenTelemetry Meter, `{ observer }` for your own VerificationObserver. Default: off.
   * Metric names and attributes: OpenTelemetryVerificationObserver.
   */
  metrics?: VerificationMetricsOption;
  /** What the library logs: see LoggingOptions. */
  logging?: LoggingOptions;
}
