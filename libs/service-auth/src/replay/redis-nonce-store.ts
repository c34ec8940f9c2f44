import { Redis, type RedisOptions } from 'ioredis';

import type { NonceStore } from './nonce-store.interface.js';
import { ReplayStoreUnavailableError } from './replay-store-unavailable.error.js';

export const DEFAULT_NONCE_KEY_PREFIX = 'nest-service-auth:nonce:';
export const DEFAULT_NONCE_STORE_TIMEOUT_MS = 250;
export const DEFAULT_NONCE_STORE_CONNECT_TIMEOUT_MS = 2000;
/** Reconnect backoff of an owned client: attempt * 100 ms, capped at this value, forever. */
export const NONCE_STORE_MAX_RECONNECT_DELAY_MS = 2000;
/** How long ioredis waits for a socket to end gracefully before destroying it (its default: 2 s). */
const DISCONNECT_TIMEOUT_MS = 100;

interface CommonOptions {
  /**
   * The callee's service id. Keys are `${keyPrefix}${namespace}:${key}`, so callee services that
   * share one Redis never see each other's nonces. Must be non-empty and must not contain ':'
   * (otherwise namespace "a:b" + key "c" and namespace "a" + key "b:c" would collide).
   */
  namespace: string;
  /** Default `'nest-service-auth:nonce:'`. */
  keyPrefix?: string;
  /** Budget for one claim, waiting for the connection included. Default 250 ms. */
  timeoutMs?: number;
  /**
   * Receives the errors of an owned client (connection refused, reset...). They are swallowed
   * otherwise, so an unreachable Redis never crashes the process. The URL's password is redacted
   * from the messages. Not used with `client` (its owner handles its 'error' events).
   */
  onError?: (err: Error) => void;
  /** TCP connect timeout of an owned client. Default 2000 ms. */
  connectTimeoutMs?: number;
}

export type RedisNonceStoreOptions = CommonOptions &
  (
    | {
        /** An existing ioredis client. The store never closes it. */
        client: Redis;
        url?: undefined;
      }
    | {
        /** `redis://[user:password@]host:port[/db]` (or `rediss://`). The store creates and owns the client. */
        url: string;
        client?: undefined;
      }
  );

/**
 * A {@link NonceStore} in Redis, shared by every replica of a callee service.
 *
 * Each claim is exactly one atomic round trip, `SET <key> 1 PX <ttl> NX`: `'OK'` means first use
 * (`true`), a null reply means the key exists (`false`, a replay). Fails closed: any client error,
 * any unexpected reply, or no answer within `timeoutMs` rejects with
 * {@link ReplayStoreUnavailableError}; a claim never resolves `true` without Redis saying so.
 *
 * An owned client (created from `url`) does not queue commands while disconnected
 * (`enableOfflineQueue: false`, `maxRetriesPerRequest: 0`), so during an outage claims reject at
 * once instead of piling up; it reconnects forever with a capped backoff, so claims succeed again
 * once Redis is back, without recreating the store.
 *
 * Startup: the client connects as soon as the store is constructed. A claim issued while it is
 * still connecting (or reconnecting: socket open, ready check running) waits for 'ready' within its
 * `timeoutMs` budget; ioredis with `enableOfflineQueue: false` would otherwise reject it straight
 * away. If Redis is not reachable within that budget the claim rejects (fail closed).
 */
export class RedisNonceStore implements NonceStore {
  readonly namespace: string;
  readonly keyPrefix: string;
  readonly timeoutMs: number;

  private readonly client: Redis;
  private readonly ownsClient: boolean;
  private readonly secrets: string[];
  private closed = false;
  private connecting: Promise<void> | undefined;

  constructor(options: RedisNonceStoreOptions) {
    const { namespace, keyPrefix = DEFAULT_NONCE_KEY_PREFIX, timeoutMs = DEFAULT_NONCE_STORE_TIMEOUT_MS } = options;
    if (typeof namespace !== 'string' || namespace.length === 0 || namespace.includes(':')) {
      throw new TypeError('RedisNonceStore: namespace must be a non-empty string without ":"');
    }
    if (typeof keyPrefix !== 'string') {
      throw new TypeError('RedisNonceStore: keyPrefix must be a string');
    }
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new TypeError('RedisNonceStore: timeoutMs must be a positive number');
    }
    if ((options.client === undefined) === (options.url === undefined)) {
      throw new TypeError('RedisNonceStore: pass exactly one of `client` or `url`');
    }
    this.namespace = namespace;
    this.keyPrefix = keyPrefix;
    this.timeoutMs = timeoutMs;

    if (options.client !== undefined) {
      this.client = options.client;
      this.ownsClient = false;
      this.secrets = [];
    } else {
      this.secrets = urlSecrets(options.url);
      this.ownsClient = true;
      const clientOptions: RedisOptions = {
        lazyConnect: false,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        connectTimeout: options.connectTimeoutMs ?? DEFAULT_NONCE_STORE_CONNECT_TIMEOUT_MS,
        disconnectTimeout: DISCONNECT_TIMEOUT_MS,
        retryStrategy: (attempt: number) => Math.min(attempt * 100, NONCE_STORE_MAX_RECONNECT_DELAY_MS),
        // A READONLY reply (failed-over replica) should trigger a reconnect to the new primary.
        reconnectOnError: (err: Error) => err.message.startsWith('READONLY'),
      };
      this.client = new Redis(options.url, clientOptions);
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
  }

  /** `new RedisNonceStore({ ...opts, url, namespace })`: the store owns the client. */
  static fromUrl(
    url: string,
    namespace: string,
    opts: Omit<CommonOptions, 'namespace'> = {},
  ): RedisNonceStore {
    return new RedisNonceStore({ ...opts, url, namespace });
  }

  /** The Redis key a nonce is stored under. */
  keyFor(key: string): string {
    return `${this.keyPrefix}${this.namespace}:${key}`;
  }

  async claim(key: string, expiresAtMs: number): Promise<boolean> {
    if (typeof key !== 'string' || key.length === 0) {
      throw new TypeError('RedisNonceStore.claim: key must be a non-empty string');
    }
    if (!Number.isFinite(expiresAtMs)) {
      throw new TypeError('RedisNonceStore.claim: expiresAtMs must be a finite number');
    }
    if (this.closed) {
      throw new ReplayStoreUnavailableError('Replay store unavailable: the Redis nonce store is closed');
    }
    const redisKey = this.keyFor(key);
    const ttlMs = Math.max(1, Math.ceil(expiresAtMs - Date.now()));

    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new ReplayStoreUnavailableError(
              `Replay store unavailable: Redis did not answer within ${this.timeoutMs} ms`,
            ),
          ),
        this.timeoutMs,
      );
    });
    const attempt = (async () => {
      await this.waitForConnection();
      return this.client.set(redisKey, '1', 'PX', ttlMs, 'NX');
    })();
    // The loser of the race must not become an unhandled rejection.
    attempt.catch(() => undefined);

    try {
      const reply = await Promise.race([attempt, deadline]);
      if (reply === 'OK') return true;
      if (reply === null) return false;
      throw new ReplayStoreUnavailableError('Replay store unavailable: unexpected reply from Redis');
    } catch (err) {
      if (err instanceof ReplayStoreUnavailableError) throw err;
      const cause = this.sanitize(err);
      throw new ReplayStoreUnavailableError(`Replay store unavailable: ${cause.message}`, { cause });
    } finally {
      clearTimeout(timer);
    }
  }

  /** Quits the client when the store created it; an injected client is left untouched. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.ownsClient) return;
    const client = this.client;
    if (client.status === 'end') return;
    if (client.status === 'ready' || client.status === 'connecting' || client.status === 'connect') {
      // A live socket: QUIT (graceful, in-flight replies still arrive) or drop it; either way the
      // socket closes and the client emits 'end' without reconnecting.
      const ended = this.waitForEnd(Math.max(this.timeoutMs, 1000));
      if (client.status === 'ready') client.quit().catch(() => client.disconnect(false));
      else client.disconnect(false);
      if (await ended) return;
    }
    // No live socket (reconnecting after an outage) or QUIT got no answer: cancel the reconnect
    // timer and drop the socket. ioredis then arms a `disconnectTimeout` timer on the old socket
    // that nothing clears when that socket is already closed; wait it out so that nothing of
    // ours is left on the event loop once close() resolves.
    client.disconnect(false);
    await new Promise<void>((resolve) => setTimeout(resolve, DISCONNECT_TIMEOUT_MS + 20));
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
   * enableOfflineQueue:false ioredis would reject the command at once; concurrent claims share one
   * wait (one set of listeners). In every other state the command is sent directly and ioredis
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

  /** An Error whose message does not contain the URL's password (or user info). */
  private sanitize(err: unknown): Error {
    const error = err instanceof Error ? err : new Error(String(err));
    const redacted = redact(error.message, this.secrets);
    if (redacted === error.message) return error;
    const copy = new Error(redacted);
    copy.name = error.name;
    return copy;
  }
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
