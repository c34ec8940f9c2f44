/**
 * How to reach a Redis Cluster or a master behind Sentinel: plain data, free of ioredis and of Nest,
 * so that the module's options (whose declarations must not need ioredis) and the Redis stores share
 * one definition.
 */

/** A node of a Redis Cluster, or a Sentinel. */
export interface RedisNodeAddress {
  host: string;
  port: number;
}

/** A Redis Cluster the connection creates a client for (and owns). */
export interface RedisClusterConnectionOptions {
  /** Seed nodes; one reachable node is enough, the client discovers the others. */
  nodes: RedisNodeAddress[];
  username?: string;
  password?: string;
  /** Connect with TLS (`tls.connect` options; `{}` for the defaults). */
  tls?: Record<string, unknown>;
}

/** A master found through Redis Sentinel; the connection creates a client for it (and owns it). */
export interface RedisSentinelConnectionOptions {
  sentinels: RedisNodeAddress[];
  /** The master group's name (`sentinel monitor <name> …`). */
  name: string;
  /** Credentials of the Redis master (and replicas). */
  username?: string;
  password?: string;
  /** Credentials of the Sentinels themselves, when they require some. */
  sentinelUsername?: string;
  sentinelPassword?: string;
  db?: number;
  /** Connect to the master with TLS (`tls.connect` options); `enableTLSForSentinelMode` is set with it. */
  tls?: Record<string, unknown>;
}
