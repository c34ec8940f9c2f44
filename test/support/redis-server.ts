/**
 * Starts a throwaway, real `redis-server` for tests: 127.0.0.1 only, on a free port, with no
 * persistence. Tests that need Redis FAIL (never skip) when the binary is missing.
 *
 *   const redis = await startRedisServer();
 *   ... new RedisNonceStore({ url: redis.url, namespace: 'svc' }) ...
 *   await redis.kill();     // simulate a crash (SIGKILL)
 *   await redis.restart();  // same port, empty dataset
 *   await redis.stop();     // in afterAll
 */
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Redis } from 'ioredis';
import { assertServerProcessesAllowed, findFreePort, LOOPBACK as HOST, startServerProcess, stopServerProcess } from './server-process.js';

export interface RedisServerHandle {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** SIGTERM (SIGKILL after 5 s) and wait for the process to exit. Idempotent. */
  stop(): Promise<void>;
  /** Stop if running, then start again on the same port and wait until it answers PING. */
  restart(): Promise<void>;
  /** SIGKILL (a crash: connections are reset, nothing is flushed) and wait for the exit. */
  kill(): Promise<void>;
}

export interface StartRedisServerOptions {
  /** Default: a free port picked by the OS. */
  port?: number;
  /** How long to wait for PING to answer. Default 10 s. */
  readyTimeoutMs?: number;
  /** More `redis-server` arguments (cluster mode, `--replicaof`…), after the defaults, so they win. */
  args?: readonly string[];
  /** A config file, passed first (`redis-server <file> --sentinel` needs one it can rewrite). */
  configFile?: string;
  /** Working directory (`--dir`: where a cluster node writes its config). Default the OS temp dir. */
  dir?: string;
}

export const REDIS_SERVER_NOT_FOUND_MESSAGE =
  'redis-server not found on PATH: install it (Debian: apt-get install redis-server); npm test installs it (scripts/provision-test-servers.sh)';

/** The `redis-server` binary: `$REDIS_SERVER_BIN`, else the first match on PATH. Throws if absent. */
export function findRedisServerBinary(): string {
  const explicit = process.env.REDIS_SERVER_BIN;
  const candidates = explicit
    ? [explicit]
    : (process.env.PATH ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, 'redis-server'));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  throw new Error(REDIS_SERVER_NOT_FOUND_MESSAGE);
}

/** One PING over a raw socket; resolves true on +PONG, false on anything else. */
function ping(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    let settled = false;
    let buffer = '';
    const socket = createConnection({ host: HOST, port });
    const done = (ok: boolean) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      if (buffer.includes('\r\n')) done(buffer.startsWith('+PONG'));
    });
  });
}

export async function startRedisServer(options: StartRedisServerOptions = {}): Promise<RedisServerHandle> {
  assertServerProcessesAllowed('redis-server');
  const binary = findRedisServerBinary();
  const port = options.port ?? (await findFreePort());
  const readyTimeoutMs = options.readyTimeoutMs ?? 10_000;
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    child = await startServerProcess({
      name: 'redis-server',
      command: [
        binary,
        ...(options.configFile ? [options.configFile] : []),
        '--save',
        '',
        '--appendonly',
        'no',
        '--port',
        String(port),
        '--bind',
        HOST,
        '--dir',
        options.dir ?? tmpdir(),
        '--daemonize',
        'no',
        ...(options.args ?? []),
      ],
      isReady: () => ping(port),
      readyTimeoutMs,
      pollMs: 50,
      readiness: `answering PING on port ${port}`,
      onSpawnError: (err) => (err.code === 'ENOENT' ? new Error(REDIS_SERVER_NOT_FOUND_MESSAGE) : err),
    });
  };

  const terminate = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    child = undefined;
    await stopServerProcess(proc, signal, 5000);
  };

  await launch();

  return {
    url: `redis://${HOST}:${port}`,
    port,
    stop: () => terminate('SIGTERM'),
    kill: () => terminate('SIGKILL'),
    restart: async () => {
      await terminate('SIGTERM');
      await launch();
    },
  };
}

/** A short-lived admin connection to one node; errors are the caller's to handle. */
export async function withRedisNode<T>(port: number, use: (node: Redis) => Promise<T>): Promise<T> {
  const node = new Redis({
    host: HOST,
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1000,
  });
  node.on('error', () => undefined);
  try {
    await node.connect();
    return await use(node);
  } finally {
    node.disconnect();
  }
}
