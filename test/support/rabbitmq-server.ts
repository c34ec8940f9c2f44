/**
 * Starts a throwaway, real RabbitMQ (Debian's rabbitmq-server package) as a process of its own: its
 * own node name, ports (AMQP, distribution, epmd) and folder, so that it needs no system service and
 * leaves nothing behind. Takes several seconds: start it once per suite. Tests that need it FAIL (never
 * skip) when it is missing: npm test installs it (scripts/provision-test-servers.sh).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertServerProcessesAllowed, findFreePort, LOOPBACK, sleep, waitForExit } from './server-process.js';

export interface RabbitMqServerHandle {
  /** `amqp://guest:guest@127.0.0.1:<port>` */
  readonly url: string;
  stop(): Promise<void>;
}

const BIN = process.env.RABBITMQ_SERVER_BIN ?? '/usr/sbin/rabbitmq-server';

async function acceptsAmqp(url: string): Promise<boolean> {
  const amqp = await import('amqplib');
  try {
    const connection = await amqp.connect(url);
    await connection.close();
    return true;
  } catch {
    return false;
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** SIGTERM (the VM shuts down cleanly), SIGKILL after 10 s; resolves once the process is gone. */
async function stopPid(pid: number): Promise<void> {
  if (!alive(pid)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 10_000;
  while (alive(pid)) {
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      break;
    }
    await sleep(100);
  }
}

export async function startRabbitMqServer(readyTimeoutMs = 60_000): Promise<RabbitMqServerHandle> {
  assertServerProcessesAllowed('rabbitmq-server');
  const [port, distPort, epmdPort] = [await findFreePort(), await findFreePort(), await findFreePort()];
  const base = mkdtempSync(join(tmpdir(), 'rabbitmq-test-'));
  writeFileSync(join(base, 'enabled_plugins'), '[].\n');
  // As root, Debian's wrapper runs the broker as the `rabbitmq` user: its folder must be that user's.
  if (process.getuid?.() === 0) {
    const id = (flag: string) => Number(spawnSync('id', [flag, 'rabbitmq'], { encoding: 'utf8' }).stdout.trim());
    const [uid, gid] = [id('-u'), id('-g')];
    if (Number.isInteger(uid) && Number.isInteger(gid)) chownSync(base, uid, gid);
  }
  const env = {
    ...process.env,
    RABBITMQ_NODE_IP_ADDRESS: LOOPBACK,
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    ERL_EPMD_PORT: String(epmdPort),
    ERL_EPMD_ADDRESS: LOOPBACK,
    RABBITMQ_NODENAME: `test${port}@localhost`,
    RABBITMQ_MNESIA_BASE: join(base, 'mnesia'),
    RABBITMQ_LOG_BASE: join(base, 'log'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(base, 'enabled_plugins'),
    RABBITMQ_FEATURE_FLAGS_FILE: join(base, 'feature_flags'),
    RABBITMQ_PID_FILE: join(base, 'rabbitmq.pid'),
  };
  const output: string[] = [];
  // Its own process group: the wrapper, su and the Erlang VM are stopped together.
  const proc: ChildProcess = spawn(BIN, [], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
  proc.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
  let spawnError: Error | undefined;
  proc.once('error', (err) => (spawnError = err));
  const url = `amqp://guest:guest@${LOOPBACK}:${port}`;

  const stop = async (): Promise<void> => {
    // `su` starts the Erlang VM in a session of its own: it is stopped by the pid it writes, then the wrappers.
    const vm = readPid(env.RABBITMQ_PID_FILE);
    if (vm !== undefined) await stopPid(vm);
    if (proc.exitCode === null && proc.signalCode === null && proc.pid !== undefined) {
      const exited = waitForExit(proc);
      signalGroup(proc.pid, 'SIGTERM');
      const escalate = setTimeout(() => proc.pid !== undefined && signalGroup(proc.pid, 'SIGKILL'), 10_000);
      await exited;
      clearTimeout(escalate);
    }
    // The broker starts an epmd daemon on its port, outside its process group.
    spawnSync('epmd', ['-port', String(epmdPort), '-kill'], { env, stdio: 'ignore' });
    rmSync(base, { recursive: true, force: true });
  };

  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (spawnError)
      throw new Error(`rabbitmq-server could not start (${spawnError.message}): install it (Debian: apt-get install rabbitmq-server)`);
    if (proc.exitCode !== null)
      throw new Error(`rabbitmq-server exited (code ${proc.exitCode}) before accepting AMQP:\n${output.join('')}`);
    if (await acceptsAmqp(url)) return { url, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`rabbitmq-server did not accept AMQP on port ${port} within ${readyTimeoutMs} ms:\n${output.join('')}`);
    }
    await sleep(250);
  }
}
