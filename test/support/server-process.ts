/**
 * What the throwaway test servers (redis-server.ts, postgres-server.ts) share: a free port, starting
 * a server process and waiting until it answers, and stopping it with a deadline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

export const LOOPBACK = '127.0.0.1';

/** Set (to the reason) in the `unit` Jest project: starting a server process there is a mistake. */
export const SERVER_PROCESSES_FORBIDDEN = 'TEST_SERVER_PROCESSES_FORBIDDEN';

/** A port that was free a moment ago (the OS picks it; we release it straight away). */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close((err) => (err ? reject(err) : port ? resolve(port) : reject(new Error('no port'))));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function running(proc: ChildProcess): boolean {
  return proc.exitCode === null && proc.signalCode === null;
}

export function waitForExit(child: ChildProcess): Promise<void> {
  if (!running(child)) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Throws, saying what to do, in the `unit` Jest project (see SERVER_PROCESSES_FORBIDDEN). */
export function assertServerProcessesAllowed(name: string): void {
  const forbidden = process.env[SERVER_PROCESSES_FORBIDDEN];
  if (forbidden) {
    throw new Error(
      `Cannot start ${name}: ${forbidden}. A spec that needs one is an integration test: name it *.integration.spec.ts (Jest's e2e project runs it)`,
    );
  }
}

export interface ServerProcessSpec {
  /** Name used in error messages, e.g. `redis-server`. */
  name: string;
  command: string[];
  cwd?: string;
  /** Resolves true once the server serves (a PING, a SELECT 1). */
  isReady(): Promise<boolean>;
  readyTimeoutMs: number;
  pollMs: number;
  /** Describes what readiness means, for error messages: `answering PING on port 6379`. */
  readiness: string;
  /** Turns a spawn error (ENOENT…) into the error to report. */
  onSpawnError?(err: NodeJS.ErrnoException): Error;
}

/**
 * Starts the process and polls `isReady` until it answers. Fails, with the server's last output, if
 * it cannot be spawned, exits early, or is not ready in time (then it is killed).
 */
export async function startServerProcess(spec: ServerProcessSpec): Promise<ChildProcess> {
  assertServerProcessesAllowed(spec.name);
  const output: string[] = [];
  const proc = spawn(spec.command[0], spec.command.slice(1), { cwd: spec.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (chunk: Buffer) => {
    output.push(chunk.toString('utf8'));
    if (output.length > 100) output.shift();
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  let spawnError: NodeJS.ErrnoException | undefined;
  proc.once('error', (err) => {
    spawnError = err;
  });

  const deadline = Date.now() + spec.readyTimeoutMs;
  for (;;) {
    if (spawnError) throw spec.onSpawnError ? spec.onSpawnError(spawnError) : spawnError;
    if (!running(proc)) {
      throw new Error(
        `${spec.name} exited (code ${proc.exitCode}, signal ${proc.signalCode}) before ${spec.readiness}:\n${output.join('')}`,
      );
    }
    if (await spec.isReady()) return proc;
    if (Date.now() > deadline) {
      await stopServerProcess(proc, 'SIGKILL');
      throw new Error(`${spec.name} was not ${spec.readiness} within ${spec.readyTimeoutMs} ms:\n${output.join('')}`);
    }
    await sleep(spec.pollMs);
  }
}

/** Sends `signal` and waits for the exit; a process that ignores it is killed after `graceMs`. */
export async function stopServerProcess(proc: ChildProcess | undefined, signal: NodeJS.Signals, graceMs = 10_000): Promise<void> {
  if (!proc || !running(proc)) return;
  const exited = waitForExit(proc);
  proc.kill(signal);
  if (signal === 'SIGKILL') return exited;
  const escalate = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(escalate);
}
