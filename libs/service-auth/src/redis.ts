/**
 * `nest-service-auth/redis`: nonces in Redis, shared by every replica of a service, for code that
 * builds its own RequestVerifier (`nest-service-auth/core`) or passes a store to ServiceAuthModule
 * (`replay: { store }`). ServiceAuthModule users usually write `replay: { redis: { url | cluster | sentinel } }`,
 * which creates this store for them. One Redis, a Redis Cluster or a master behind Sentinel.
 *
 * Needs the peer ioredis (^5 or ^6), loaded when a store creates its own client; no Nest.
 */
export { RedisNonceStore, type RedisNonceStoreOptions } from './redis/redis-nonce-store.js';
export type {
  RedisClient,
  RedisClusterConnectionOptions,
  RedisNodeAddress,
  RedisSentinelConnectionOptions,
} from './redis/redis-connection.js';
