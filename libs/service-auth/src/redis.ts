/**
 * `nest-service-auth/redis`: nonces in Redis, shared by every replica of a service, for code that
 * builds its own RequestVerifier (`nest-service-auth/core`) or passes a store to ServiceAuthModule
 * (`replay: { store }`). ServiceAuthModule users usually write `replay: { redis: { url } }` instead,
 * which creates this store for them.
 *
 * Needs the peer ioredis (^5 or ^6), loaded when a store is created from a URL; no Nest.
 */
export { RedisNonceStore, type RedisNonceStoreOptions } from './redis/redis-nonce-store.js';
