import {
  RedisConnection,
  type RedisClient,
  type RedisClusterConnectionOptions,
  type RedisSentinelConnectionOptions,
} from './redis-connection.js';

/** Options of a namespaced Redis-backed store (RedisNonceStore, RedisThrottlerStorage). */
interface NamespacedStoreOptions {
  /**
   * The service id the store works for. Keys are `${keyPrefix}${namespace}:…`, so services sharing
   * one Redis never see each other's entries. Non-empty, without ':' (otherwise namespace "a:b" +
   * key "c" and namespace "a" + key "b:c" would collide).
   */
  namespace: string;
  /** Prefix of every key; each store has its own default. */
  keyPrefix?: string;
  /** Budget for one operation, waiting for the connection included. Default 250 ms. */
  timeoutMs?: number;
  /**
   * Receives the errors of an owned client (connection refused, reset...), with passwords
   * redacted. They are swallowed otherwise, so an unreachable Redis never crashes the process.
   * Not used with `client` (its owner handles its 'error' events).
   */
  onError?: (err: Error) => void;
  /** TCP connect timeout of an owned client. Default 2000 ms. */
  connectTimeoutMs?: number;
}

/**
 * Where a store's client comes from: an existing client (never closed by the store), or options the
 * store creates (and owns) a client from: a URL (one Redis), a Cluster's nodes, or Sentinels.
 */
type ClientSource =
  | {
      /** An existing ioredis client, `Redis` (Sentinel-configured or not) or `Cluster`. The store never closes it. */
      client: RedisClient;
      url?: undefined;
      cluster?: undefined;
      sentinel?: undefined;
    }
  | {
      /** `redis://[user:password@]host:port[/db]` (or `rediss://`). */
      url: string;
      client?: undefined;
      cluster?: undefined;
      sentinel?: undefined;
    }
  | {
      /** A Redis Cluster: its seed nodes (and credentials). */
      cluster: RedisClusterConnectionOptions;
      client?: undefined;
      url?: undefined;
      sentinel?: undefined;
    }
  | {
      /** A master monitored by Redis Sentinel: the Sentinels and the master group's name. */
      sentinel: RedisSentinelConnectionOptions;
      client?: undefined;
      url?: undefined;
      cluster?: undefined;
    };

export type RedisStoreOptions = NamespacedStoreOptions & ClientSource;
export type RedisStoreTuning = Omit<NamespacedStoreOptions, 'namespace'>;

export const DEFAULT_STORE_TIMEOUT_MS = 250;

/**
 * What RedisNonceStore and RedisThrottlerStorage share: a namespace and a key prefix that keep the
 * services on one Redis apart, a deadline per operation, a RedisConnection (owned or injected client)
 * and failing closed: a command on a closed store, a client error or no answer within `timeoutMs`
 * rejects with the store's own "unavailable" error, whose message never holds the URL's password.
 */
export abstract class NamespacedRedisStore {
  readonly namespace: string;
  readonly keyPrefix: string;
  readonly timeoutMs: number;
  private readonly connection: RedisConnection;

  /** `owner`: the class name, for error messages. */
  protected constructor(
    private readonly owner: string,
    options: RedisStoreOptions,
    defaultKeyPrefix: string,
  ) {
    const { namespace, keyPrefix = defaultKeyPrefix, timeoutMs = DEFAULT_STORE_TIMEOUT_MS } = options;
    if (typeof namespace !== 'string' || namespace.length === 0 || namespace.includes(':')) {
      throw new TypeError(`${owner}: namespace must be a non-empty string without ":"`);
    }
    if (typeof keyPrefix !== 'string') {
      throw new TypeError(`${owner}: keyPrefix must be a string`);
    }
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new TypeError(`${owner}: timeoutMs must be a positive number`);
    }
    this.namespace = namespace;
    this.keyPrefix = keyPrefix;
    this.timeoutMs = timeoutMs;
    this.connection = new RedisConnection({
      owner,
      client: options.client,
      url: options.url,
      cluster: options.cluster,
      sentinel: options.sentinel,
      onError: options.onError,
      connectTimeoutMs: options.connectTimeoutMs,
    });
  }

  /** True when the store talks to a Redis Cluster (its keys must then share a hash tag per operation). */
  protected get onCluster(): boolean {
    return (this.connection.client as { isCluster?: boolean }).isCluster === true;
  }

  /** The store's own error for "cannot answer now"; `reason` is already free of passwords. */
  protected abstract unavailable(reason: string, cause?: Error): Error;

  /** Runs one command within timeoutMs, failing closed (see the class). */
  protected async run<T>(command: (client: RedisClient) => Promise<T>): Promise<T> {
    if (this.connection.closed) throw this.unavailable(`${this.owner} is closed`);
    try {
      return await this.connection.run(command, this.timeoutMs);
    } catch (err) {
      const cause = err as Error;
      throw this.unavailable(cause.message, cause);
    }
  }

  /** Quits the client when the store created it; an injected client is left untouched. Idempotent. */
  async close(): Promise<void> {
    await this.connection.close(Math.max(this.timeoutMs, 1000));
  }
}
