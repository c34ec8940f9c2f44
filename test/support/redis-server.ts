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
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

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
}

export const REDIS_SERVER_NOT_FOUND_MESSAGE =
  'redis-server not found on PATH: install it (Debian: apt-get install redis-server); CI installs it in .ci/run';

const HOST = '127.0.0.1';

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

/** A port that was free a moment ago (the OS picks it; we release it straight away). */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close((err) => (err ? reject(err) : port ? resolve(port) : reject(new Error('no port'))));
    });
  });
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

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function startRedisServer(options: StartRedisServerOptions = {}): Promise<RedisServerHandle> {
  const binary = findRedisServerBinary();
  const port = options.port ?? (await findFreePort());
  const readyTimeoutMs = options.readyTimeoutMs ?? 10_000;
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    const output: string[] = [];
    const proc = spawn(
      binary,
      [
        '--save', '',
        '--appendonly', 'no',
        '--port', String(port),
        '--bind', HOST,
        '--dir', tmpdir(),
        '--daemonize', 'no',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = proc;
    const keep = (chunk: Buffer) => {
      output.push(chunk.toString('utf8'));
      if (output.length > 50) output.shift();
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    let spawnError: Error | undefined;
    proc.once('error', (err) => {
      spawnError = err;
    });

    const deadline = Date.now() + readyTimeoutMs;
    for (;;) {
      if (spawnError) {
        const code = (spawnError as NodeJS.ErrnoException).code;
        throw code === 'ENOENT' ? new Error(REDIS_SERVER_NOT_FOUND_MESSAGE) : spawnError;
      }
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(
          `redis-server exited (code ${proc.exitCode}, signal ${proc.signalCode}) before answering PING on port ${port}:\n${output.join('')}`,
        );
      }
      if (await ping(port)) return;
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        await waitForExit(proc);
        throw new Error(`redis-server did not answer PING on port ${port} within ${readyTimeoutMs} ms:\n${output.join('')}`);
      }
      await sleep(50);
    }
  };

  const terminate = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = waitForExit(proc);
    proc.kill(signal);
    if (signal !== 'SIGKILL') {
      const escalate = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(escalate);
    } else {
      await exited;
    }
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
