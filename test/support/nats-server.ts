/**
 * Starts a throwaway, real `nats-server` (Debian's nats-server package) on 127.0.0.1 and a free port.
 * Tests that need it FAIL (never skip) when the binary is missing: npm test installs it
 * (scripts/provision-test-servers.sh).
 */
import { createConnection } from 'node:net';
import { findFreePort, LOOPBACK, startServerProcess, stopServerProcess } from './server-process.js';

export interface NatsServerHandle {
  /** `nats://127.0.0.1:<port>` */
  readonly url: string;
  stop(): Promise<void>;
}

const NOT_FOUND = 'nats-server not found on PATH: install it (Debian: apt-get install nats-server); npm test installs it';

/** Whether the server greets a connection with its INFO line. */
function answersInfo(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: LOOPBACK, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('data', (chunk) => done(chunk.toString('utf8').startsWith('INFO')));
    socket.once('error', () => done(false));
    socket.setTimeout(1000, () => done(false));
  });
}

export async function startNatsServer(): Promise<NatsServerHandle> {
  const port = await findFreePort();
  const proc = await startServerProcess({
    name: 'nats-server',
    command: [process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server', '-a', LOOPBACK, '-p', String(port)],
    isReady: () => answersInfo(port),
    readyTimeoutMs: 10_000,
    pollMs: 50,
    readiness: `answering on port ${port}`,
    onSpawnError: (err) => (err.code === 'ENOENT' ? new Error(NOT_FOUND) : err),
  });
  return { url: `nats://${LOOPBACK}:${port}`, stop: () => stopServerProcess(proc, 'SIGTERM') };
}
