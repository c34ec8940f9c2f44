import type { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import { requireOptionalPeer } from '../peers/require-optional-peer.cjs';
import type { RedisClusterConnectionOptions, RedisNodeAddress, RedisSentinelConnectionOptions } from './redis-connection-options.js';

export type { RedisClusterConnectionOptions, RedisNodeAddress, RedisSentinelConnectionOptions } from './redis-connection-options.js';

/**
 * The Redis plumbing under NamespacedRedisStore (RedisNonceStore, RedisThrottlerStorage): an owned or
 * injected ioredis client (one Redis, a Redis Cluster, or a master found through Sentinel), commands
 * bounded by a deadline, error messages without passwords, and a close() that leaves nothing on the
 * event loop. Framework-free (no Nest).
 *
 * `ioredis` is an optional peer dependency: it is loaded here, on first construction of an owned
 * client, never when a module of this package is merely imported. Entry points that re-export a
 * Redis-backed class therefore load without ioredis installed; only creating one from a URL needs it.
 */

export const DEFAULT_REDIS_CONNECT_TIMEOUT_MS = 2000;
/** Reconnect backoff of an owned client: attempt * 100 ms, capped at this value, forever. */
export const REDIS_MAX_RECONNECT_DELAY_MS = 2000;
/** How long ioredis waits for a socket to end gracefully before destroying it (its default: 2 s). */
const DISCONNECT_TIMEOUT_MS = 100;

/** What a store talks to: one Redis (possibly found through Sentinel) or a Cluster. */
export type RedisClient = Redis | Cluster;

export interface RedisConnectionOptions {
  /** An existing ioredis client (`Redis` or `Cluster`); never closed by this connection. Exactly one of `client` / `url` / `cluster` / `sentinel`. */
  client?: RedisClient;
  /** `redis://[user:password@]host:port[/db]` (or `rediss://`): the connection creates and owns the client. */
  url?: string;
  cluster?: RedisClusterConnectionOptions;
  sentinel?: RedisSentinelConnectionOptions;
  /** Receives the (redacted) errors of an owned client; they are swallowed otherwise. */
  onError?: (err: Error) => void;
  /** TCP connect timeout of an owned client. Default 2000 ms. */
  connectTimeoutMs?: number;
  /** The class using the connection, for error messages (e.g. 'RedisNonceStore'). */
  owner: string;
}

type IoredisModule = typeof import('ioredis');
let ioredis: IoredisModule | undefined;

function loadIoredis(owner: string): IoredisModule {
  if (ioredis) return ioredis;
  try {
    ioredis = requireOptionalPeer('ioredis') as IoredisModule;
    return ioredis;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') {
      throw new Error(`${owner} needs the optional peer dependency ioredis (^5 or ^6): npm install ioredis`, { cause: err });
    }
    throw err;
  }
}

export class RedisConnection {
  readonly client: RedisClient;
  readonly ownsClient: boolean;
  private readonly secrets: string[];
  /** An owned client that finds its master through Sentinel (and subscribes to the Sentinels for failovers). */
  private readonly viaSentinel: boolean = false;
  private closedFlag = false;
  private revival: NodeJS.Timeout | undefined;
  private connecting: Promise<void> | undefined;

  constructor(options: RedisConnectionOptions) {
    const sources = [options.client, options.url, options.cluster, options.sentinel].filter((source) => source !== undefined);
    if (sources.length !== 1) {
      throw new TypeError(`${options.owner}: pass exactly one of \`client\`, \`url\`, \`cluster\` or \`sentinel\``);
    }
    if (options.client !== undefined) {
      this.client = options.client;
      this.ownsClient = false;
      this.secrets = [];
      return;
    }
    this.ownsClient = true;
    // Fail fast rather than queue: during an outage commands reject at once; reconnect forever with a capped backoff.
    const failFast = {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: options.connectTimeoutMs ?? DEFAULT_REDIS_CONNECT_TIMEOUT_MS,
      disconnectTimeout: DISCONNECT_TIMEOUT_MS,
      // A READONLY reply (a demoted master still answering) should trigger a reconnect to the new primary.
      reconnectOnError: (err: Error) => err.message.startsWith('READONLY'),
    } satisfies RedisOptions;
    const retryStrategy = (attempt: number) => Math.min(attempt * 100, REDIS_MAX_RECONNECT_DELAY_MS);
    const ioredisModule = loadIoredis(options.owner);
    if (options.url !== undefined) {
      if (typeof options.url !== 'string' || options.url.length === 0) {
        throw new TypeError(`${options.owner}: url must be a non-empty string`);
      }
      this.secrets = urlSecrets(options.url);
      this.client = new ioredisModule.Redis(options.url, { ...failFast, lazyConnect: false, retryStrategy });
    } else if (options.cluster !== undefined) {
      const { nodes, username, password, tls } = options.cluster;
      requireAddresses(options.owner, 'cluster.nodes', nodes);
      this.secrets = secretsOf(password);
      const clusterOptions: ClusterOptions = {
        enableOfflineQueue: false,
        enableReadyCheck: true,
        clusterRetryStrategy: retryStrategy,
        // A node that stops answering is dropped and the slot map fetched again, so a promoted replica is found.
        slotsRefreshInterval: 1000,
        retryDelayOnFailover: 100,
        retryDelayOnClusterDown: 100,
        redisOptions: {
          username,
          password,
          tls,
          maxRetriesPerRequest: 0,
          connectTimeout: failFast.connectTimeout,
          disconnectTimeout: DISCONNECT_TIMEOUT_MS,
        },
      };
      this.client = new ioredisModule.Cluster(nodes, clusterOptions);
    } else {
      const { sentinels, name, username, password, sentinelUsername, sentinelPassword, db, tls } = options.sentinel!;
      requireAddresses(options.owner, 'sentinel.sentinels', sentinels);
      if (typeof name !== 'string' || name.length === 0) throw new TypeError(`${options.owner}: sentinel.name must be a non-empty string`);
      this.secrets = secretsOf(password, sentinelPassword);
      this.viaSentinel = true;
      this.client = new ioredisModule.Redis({
        ...failFast,
        sentinels,
        name,
        username,
        password,
        sentinelUsername,
        sentinelPassword,
        db,
        tls,
        enableTLSForSentinelMode: tls !== undefined,
        // No failoverDetector: its +switch-master handler disconnects the connector, and when that lands
        // while ioredis is still resolving the new master, the client ends for good. A dead master's
        // socket closes anyway, and a demoted one answers READONLY (reconnectOnError).
        retryStrategy,
        sentinelRetryStrategy: retryStrategy,
      });
    }
    // An owned client must never stay down: when ioredis gives up on its own (a connector that failed
    // mid-connection ends the client instead of retrying), connect it again after the capped backoff.
    this.client.on('end', () => {
      if (this.closedFlag || this.revival) return;
      this.revival = setTimeout(() => {
        this.revival = undefined;
        if (!this.closedFlag && this.client.status === 'end') this.client.connect().catch(() => undefined);
      }, REDIS_MAX_RECONNECT_DELAY_MS);
    });
    const onError = options.onError;
    // Attached synchronously, before the first connection attempt can emit anything.
    this.client.on('error', (err: unknown) => {
      if (!onError) return;
      try {
        onError(this.sanitize(err));
      } catch {
        // A throwing callback must not turn a connection error into a crash.
      }
    });
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /**
   * Sends `command` once the client can take it, and settles within `timeoutMs` (waiting for the
   * connection included). Rejects with an Error whose message is redacted: the client's own error,
   * or `Redis did not answer within <timeoutMs> ms`. Never resolves after the deadline.
   */
  async run<T>(command: (client: RedisClient) => Promise<T>, timeoutMs: number): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Redis did not answer within ${timeoutMs} ms`)), timeoutMs);
    });
    const attempt = (async () => {
      await this.waitForConnection();
      return command(this.client);
    })();
    // The loser of the race must not become an unhandled rejection.
    attempt.catch(() => undefined);
    try {
      return await Promise.race([attempt, deadline]);
    } catch (err) {
      throw this.sanitize(err);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Quits the client when this connection created it; an injected client is left untouched.
   * Idempotent. `graceMs` bounds the wait for a graceful QUIT before the socket is dropped.
   */
  async close(graceMs = 1000): Promise<void> {
    if (this.closedFlag) return;
    this.closedFlag = true;
    clearTimeout(this.revival);
    if (!this.ownsClient) return;
    const client = this.client;
    if (client.status === 'end' && !this.viaSentinel) return;
    if (client.status === 'ready' || client.status === 'connecting' || client.status === 'connect') {
      // A live socket: QUIT (graceful, in-flight replies still arrive) or drop it; either way the
      // socket closes and the client emits 'end' without reconnecting.
      const ended = this.waitForEnd(graceMs);
      if (client.status === 'ready') client.quit().catch(() => client.disconnect(false));
      else client.disconnect(false);
      if ((await ended) && !this.viaSentinel) return;
      // A QUIT ends the master connection only: the Sentinel subscriptions of ioredis' failover
      // detector are released by disconnect() alone, and would otherwise reconnect forever.
    }
    // No live socket (reconnecting after an outage) or QUIT got no answer: cancel the reconnect
    // timer and drop the socket. ioredis then arms a `disconnectTimeout` timer on the old socket
    // that nothing clears when that socket is already closed; wait it out so that nothing of
    // ours is left on the event loop once close() resolves.
    client.disconnect(false);
    await new Promise<void>((resolve) => setTimeout(resolve, DISCONNECT_TIMEOUT_MS + 20));
  }

  /** An Error whose message does not contain the URL's password (or any URL user info). */
  sanitize(err: unknown): Error {
    const error = err instanceof Error ? err : new Error(String(err));
    const redacted = redact(error.message, this.secrets);
    if (redacted === error.message) return error;
    const copy = new Error(redacted);
    copy.name = error.name;
    return copy;
  }

  /** Resolves true on the client's 'end' event, false after `ms`. */
  private waitForEnd(ms: number): Promise<boolean> {
    const client = this.client;
    return new Promise<boolean>((resolve) => {
      const onEnd = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        client.off('end', onEnd);
        resolve(false);
      }, ms);
      client.once('end', onEnd);
    });
  }

  /**
   * Resolves once a command can be sent. While the client is mid-connection ('connecting', or
   * 'connect' = socket open, ready check pending) this waits for 'ready', since with
   * enableOfflineQueue:false ioredis would reject the command at once; concurrent commands share
   * one wait (one set of listeners). In every other state the command is sent directly and ioredis
   * decides (ready: sent; reconnecting: rejected, or queued if an injected client has an offline
   * queue). The caller's deadline bounds the wait.
   */
  private waitForConnection(): Promise<void> {
    const client = this.client;
    if (client.status !== 'connecting' && client.status !== 'connect') return Promise.resolve();
    if (!this.connecting) {
      const pending = new Promise<void>((resolve, reject) => {
        const cleanup = () => {
          client.off('ready', onReady);
          client.off('close', onClose);
          client.off('end', onClose);
          this.connecting = undefined;
        };
        const onReady = () => {
          cleanup();
          resolve();
        };
        const onClose = () => {
          cleanup();
          reject(new Error('connection to Redis closed before it was ready'));
        };
        client.once('ready', onReady);
        client.once('close', onClose);
        client.once('end', onClose);
      });
      pending.catch(() => undefined);
      this.connecting = pending;
    }
    return this.connecting;
  }
}

function requireAddresses(owner: string, name: string, addresses: unknown): void {
  const valid =
    Array.isArray(addresses) &&
    addresses.length > 0 &&
    addresses.every(
      (a) =>
        typeof a === 'object' &&
        a !== null &&
        typeof (a as RedisNodeAddress).host === 'string' &&
        Number.isInteger((a as RedisNodeAddress).port) &&
        (a as RedisNodeAddress).port > 0,
    );
  if (!valid) throw new TypeError(`${owner}: ${name} must be a non-empty list of { host, port }`);
}

/** The given passwords, longest first (so that a password containing another is redacted whole). */
function secretsOf(...passwords: Array<string | undefined>): string[] {
  return passwords.filter((p): p is string => typeof p === 'string' && p.length > 0).sort((a, b) => b.length - a.length);
}

function urlSecrets(url: string): string[] {
  const secrets = new Set<string>();
  try {
    const parsed = new URL(url);
    if (parsed.password) {
      secrets.add(parsed.password);
      try {
        secrets.add(decodeURIComponent(parsed.password));
      } catch {
        // Malformed escape: the raw form is already listed.
      }
    }
  } catch {
    // Not a WHATWG-parsable URL: fall back to the userinfo part, if any.
    const match = /^[a-z][a-z0-9+.-]*:\/\/([^@/]*)@/i.exec(url);
    const userinfo = match?.[1];
    if (userinfo) {
      const colon = userinfo.indexOf(':');
      const password = colon >= 0 ? userinfo.slice(colon + 1) : userinfo;
      if (password) secrets.add(password);
    }
  }
  return [...secrets].sort((a, b) => b.length - a.length);
}

function redact(message: string, secrets: readonly string[]): string {
  let out = message;
  for (const secret of secrets) {
    if (secret) out = out.split(secret).join('***');
  }
  // Any URL userinfo that slipped through (e.g. a URL echoed inside an error).
  return out.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^@/\s]*@/gi, '$1***@');
}
