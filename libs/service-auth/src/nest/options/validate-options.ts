import { KeyConfigurationError } from '../../errors/key-configuration.error.js';
import type { ServiceAuthModuleOptions } from './service-auth-options.interface.js';
import { DEFAULT_STORE_TIMEOUT_MS } from '../../redis/namespaced-redis-store.js';

const SERVICE_ID = /^[A-Za-z0-9._~-]{1,128}$/;

function positiveInteger(value: unknown, setting: string): void {
  if (value !== undefined && (typeof value !== 'number' || !Number.isInteger(value) || value <= 0)) {
    throw new KeyConfigurationError(`ServiceAuthModule: ${setting} must be a positive integer (got ${JSON.stringify(value)})`);
  }
}

/** Checks everything but the keys (KeyRing checks those, naming each key's source). */
export function validateOptions(options: ServiceAuthModuleOptions | undefined): void {
  if (!options || typeof options !== 'object') throw new KeyConfigurationError('ServiceAuthModule: options are required');
  if (typeof options.serviceId !== 'string' || !SERVICE_ID.test(options.serviceId)) {
    throw new KeyConfigurationError(
      'ServiceAuthModule: serviceId is required (1-128 characters of A-Z a-z 0-9 . _ ~ -), e.g. "order-service"',
    );
  }
  if (options.guard !== undefined && !['global', 'manual'].includes(options.guard)) {
    throw new KeyConfigurationError(
      `ServiceAuthModule: guard must be 'global' or 'manual' (got ${JSON.stringify(options.guard)}). ` +
        'A service that accepts no signed callers does not register ServiceAuthModule; to call other services it imports ' +
        "SignedHttpModule.register({ serviceId, … }) from 'nest-service-auth/client' alone",
    );
  }
  if (options.keys && options.keyProvider) {
    throw new KeyConfigurationError('ServiceAuthModule: set either keys or keyProvider, not both');
  }
  positiveInteger(options.maxBodyBytes, 'maxBodyBytes');
  positiveInteger(options.replay?.maxAgeSeconds, 'replay.maxAgeSeconds');
  if (options.replay?.maxFutureSkewSeconds !== undefined) {
    const skew = options.replay.maxFutureSkewSeconds;
    if (typeof skew !== 'number' || !Number.isInteger(skew) || skew < 0) {
      throw new KeyConfigurationError(
        `ServiceAuthModule: replay.maxFutureSkewSeconds must be a non-negative integer (got ${JSON.stringify(skew)})`,
      );
    }
  }
  validateReplayStore(options.replay);
  if (options.encryption !== undefined && !['required', 'optional', 'off'].includes(options.encryption)) {
    throw new KeyConfigurationError(
      `ServiceAuthModule: encryption must be 'required', 'optional' or 'off' (got ${JSON.stringify(options.encryption)})`,
    );
  }
  validateMetrics(options.metrics);
  const perSecond = options.logging?.strangerRefusalsPerSecond;
  if (perSecond !== Infinity) nonNegativeInteger(perSecond, 'logging.strangerRefusalsPerSecond');
}

function nonNegativeInteger(value: unknown, setting: string): void {
  if (value !== undefined && (typeof value !== 'number' || !Number.isInteger(value) || value < 0)) {
    throw new KeyConfigurationError(`ServiceAuthModule: ${setting} must be a non-negative integer (got ${JSON.stringify(value)})`);
  }
}

/**
 * replay.store and replay.redis: at most one; replay.maxNoncesPerCaller not with replay.store (the
 * module's stores apply it, a store of the application bounds itself). Error messages name the
 * setting, never the URL's value (it may carry a password).
 */
function validateReplayStore(replay: ServiceAuthModuleOptions['replay']): void {
  if (replay === undefined) return;
  if (typeof replay !== 'object' || replay === null) {
    throw new KeyConfigurationError('ServiceAuthModule: replay must be an object');
  }
  const store: unknown = replay.store;
  const redis: unknown = replay.redis;
  if (store !== undefined && redis !== undefined) {
    throw new KeyConfigurationError('ServiceAuthModule: set either replay.store or replay.redis, not both');
  }
  positiveInteger(replay.maxNoncesPerCaller, 'replay.maxNoncesPerCaller');
  // A bound that silently does nothing is worse than none: the operator believes callers are bounded.
  if (replay.maxNoncesPerCaller !== undefined && store !== undefined) {
    throw new KeyConfigurationError(
      'ServiceAuthModule: replay.maxNoncesPerCaller bounds the in-memory and Redis nonce stores; it cannot be combined with replay.store (bound that store itself)',
    );
  }
  if (store !== undefined && (typeof store !== 'object' || store === null || typeof (store as { claim?: unknown }).claim !== 'function')) {
    throw new KeyConfigurationError('ServiceAuthModule: replay.store must be a NonceStore (an object with a claim() method)');
  }
  if (redis === undefined) return;
  if (typeof redis !== 'object' || redis === null || Array.isArray(redis)) {
    throw new KeyConfigurationError('ServiceAuthModule: replay.redis must be an object: { url }, { client }, { cluster } or { sentinel }');
  }
  const { url, client, cluster, sentinel, keyPrefix, timeoutMs, waitForReplicas } = redis as Record<string, unknown>;
  if ([url, client, cluster, sentinel].filter((source) => source !== undefined).length !== 1) {
    throw new KeyConfigurationError(
      'ServiceAuthModule: replay.redis needs exactly one of replay.redis.url, replay.redis.client, replay.redis.cluster or replay.redis.sentinel',
    );
  }
  if (cluster !== undefined && !hasAddresses(cluster, 'nodes')) {
    throw new KeyConfigurationError('ServiceAuthModule: replay.redis.cluster.nodes must be a non-empty list of { host, port }');
  }
  if (sentinel !== undefined && !hasAddresses(sentinel, 'sentinels')) {
    throw new KeyConfigurationError('ServiceAuthModule: replay.redis.sentinel.sentinels must be a non-empty list of { host, port }');
  }
  if (sentinel !== undefined && (typeof (sentinel as { name?: unknown }).name !== 'string' || (sentinel as { name: string }).name === '')) {
    throw new KeyConfigurationError('ServiceAuthModule: replay.redis.sentinel.name must be the master group name');
  }
  if (waitForReplicas !== undefined) {
    if (typeof waitForReplicas !== 'object' || waitForReplicas === null) {
      throw new KeyConfigurationError('ServiceAuthModule: replay.redis.waitForReplicas must be { replicas, timeoutMs? }');
    }
    const wait = waitForReplicas as Record<string, unknown>;
    if (wait.replicas === undefined)
      throw new KeyConfigurationError('ServiceAuthModule: replay.redis.waitForReplicas.replicas is required');
    positiveInteger(wait.replicas, 'replay.redis.waitForReplicas.replicas');
    positiveInteger(wait.timeoutMs, 'replay.redis.waitForReplicas.timeoutMs');
    const budget = typeof timeoutMs === 'number' ? timeoutMs : DEFAULT_STORE_TIMEOUT_MS;
    if (typeof wait.timeoutMs === 'number' && wait.timeoutMs >= budget) {
      throw new KeyConfigurationError(
        `ServiceAuthModule: replay.redis.waitForReplicas.timeoutMs must be below replay.redis.timeoutMs (${budget})`,
      );
    }
  }
  if (url !== undefined && (typeof url !== 'string' || !/^rediss?:\/\/./i.test(url))) {
    throw new KeyConfigurationError('ServiceAuthModule: replay.redis.url must be a redis:// or rediss:// URL');
  }
  if (client !== undefined && (typeof client !== 'object' || client === null || typeof (client as { set?: unknown }).set !== 'function')) {
    throw new KeyConfigurationError('ServiceAuthModule: replay.redis.client must be an ioredis client');
  }
  if (keyPrefix !== undefined && typeof keyPrefix !== 'string') {
    throw new KeyConfigurationError(`ServiceAuthModule: replay.redis.keyPrefix must be a string (got ${JSON.stringify(keyPrefix)})`);
  }
  positiveInteger(timeoutMs, 'replay.redis.timeoutMs');
}

function hasAddresses(value: unknown, field: string): boolean {
  const list = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[field] : undefined;
  return (
    Array.isArray(list) &&
    list.length > 0 &&
    (list as unknown[]).every((entry) => {
      const address = (typeof entry === 'object' && entry !== null ? entry : {}) as { host?: unknown; port?: unknown };
      return typeof address.host === 'string' && typeof address.port === 'number' && Number.isInteger(address.port) && address.port > 0;
    })
  );
}

/** metrics: a boolean, { meter } (an OpenTelemetry Meter) or { observer } (a VerificationObserver). */
function validateMetrics(metrics: unknown): void {
  if (metrics === undefined || typeof metrics === 'boolean') return;
  const { meter, observer } = (typeof metrics === 'object' && metrics !== null ? metrics : {}) as Record<string, unknown>;
  const has = (value: unknown, ...methods: string[]) =>
    typeof value === 'object' && value !== null && methods.every((m) => typeof (value as Record<string, unknown>)[m] === 'function');
  if (
    (meter === undefined) === (observer === undefined) ||
    (meter !== undefined && !has(meter, 'createCounter', 'createHistogram')) ||
    (observer !== undefined && !has(observer, 'onVerified', 'onRefused'))
  ) {
    throw new KeyConfigurationError(
      'ServiceAuthModule: metrics must be true, false, { meter } (an OpenTelemetry Meter) or { observer } (an object with onVerified() and onRefused())',
    );
  }
}
