/**
 * Starts a throwaway, real PostgreSQL server for tests: a fresh `initdb` in a temporary directory,
 * listening on 127.0.0.1 only, on a free port, fsync off. Tests that need PostgreSQL FAIL (never skip)
 * when the server binaries are missing.
 *
 *   const postgres = await startPostgresServer();
 *   ... createStockStore({ databaseUrl: postgres.url }) ...
 *   await postgres.stop();   // in afterAll: fast shutdown, then the data directory is removed
 *
 * Binaries: `$PG_BIN_DIR` (a directory holding `initdb` and `postgres`), else the highest version under
 * /usr/lib/postgresql/<version>/bin (Debian's `postgresql` package), else `initdb` and `postgres` on PATH.
 *
 * PostgreSQL refuses to run as root: when this process is root, initdb and postgres run as the `postgres`
 * OS user (created by the Debian package) through `setpriv` (or `runuser` when setpriv is absent), and the
 * temporary directory is handed to that user.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { accessSync, chownSync, constants, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import pg from 'pg';
import { assertServerProcessesAllowed, findFreePort, LOOPBACK as HOST, startServerProcess, stopServerProcess } from './server-process.js';

export interface PostgresServerHandle {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (superuser, trust authentication). */
  readonly url: string;
  readonly port: number;
  /** Fast shutdown (SIGINT; SIGKILL after 10 s), wait for the exit, remove the data directory. Idempotent. */
  stop(): Promise<void>;
}

export interface StartPostgresServerOptions {
  /** Default: a free port picked by the OS. */
  port?: number;
  /** How long to wait for the server to accept connections. Default 30 s. */
  readyTimeoutMs?: number;
}

export interface PostgresBinaries {
  initdb: string;
  postgres: string;
}

export const POSTGRES_SERVER_NOT_FOUND_MESSAGE =
  'PostgreSQL server binaries not found: install them (Debian: apt-get install -y postgresql); npm test installs them (scripts/provision-test-servers.sh)';

const OS_USER = 'postgres';
const DEBIAN_ROOT = '/usr/lib/postgresql';

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function binariesIn(dir: string): PostgresBinaries | undefined {
  const found = { initdb: join(dir, 'initdb'), postgres: join(dir, 'postgres') };
  return isExecutable(found.initdb) && isExecutable(found.postgres) ? found : undefined;
}

/** Compares Debian version directory names numerically ('9.6' < '15' < '16'). */
function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** `initdb` and `postgres`: `$PG_BIN_DIR`, else the highest Debian version, else PATH. Throws if absent. */
export function findPostgresBinaries(): PostgresBinaries {
  const explicit = process.env.PG_BIN_DIR;
  if (explicit) {
    const found = binariesIn(explicit);
    if (found) return found;
    throw new Error(`PG_BIN_DIR=${explicit} holds no executable initdb and postgres. ${POSTGRES_SERVER_NOT_FOUND_MESSAGE}`);
  }
  let versions: string[] = [];
  try {
    versions = readdirSync(DEBIAN_ROOT).filter((name) => /^\d+(\.\d+)*$/.test(name));
  } catch {
    // no Debian layout
  }
  versions.sort(compareVersions).reverse();
  for (const version of versions) {
    const found = binariesIn(join(DEBIAN_ROOT, version, 'bin'));
    if (found) return found;
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const found = binariesIn(dir);
    if (found) return found;
  }
  throw new Error(POSTGRES_SERVER_NOT_FOUND_MESSAGE);
}

interface RunAs {
  /** Prefix to run a command as the server's OS user ([] when we are not root). */
  prefix: string[];
  uid?: number;
  gid?: number;
}

/** As root: the `postgres` OS user's ids and a command prefix that drops to it. */
function runAs(): RunAs {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return { prefix: [] };
  let uid: number;
  let gid: number;
  try {
    uid = Number(execFileSync('id', ['-u', OS_USER], { encoding: 'utf8' }).trim());
    gid = Number(execFileSync('id', ['-g', OS_USER], { encoding: 'utf8' }).trim());
  } catch {
    throw new Error(
      `PostgreSQL refuses to run as root and there is no '${OS_USER}' OS user to run it as (the Debian package creates it). ${POSTGRES_SERVER_NOT_FOUND_MESSAGE}`,
    );
  }
  const pathDirs = (process.env.PATH ?? '/usr/bin:/bin:/usr/sbin:/sbin').split(delimiter).concat('/usr/bin', '/usr/sbin', '/bin', '/sbin');
  const tool = (name: string) => pathDirs.map((dir) => join(dir, name)).find(isExecutable);
  // setpriv execs the command in place, so the child we hold IS postgres and our signals reach it directly.
  const setpriv = tool('setpriv');
  if (setpriv) return { prefix: [setpriv, `--reuid=${uid}`, `--regid=${gid}`, '--init-groups', '--'], uid, gid };
  const runuser = tool('runuser');
  if (runuser) return { prefix: [runuser, '-u', OS_USER, '--'], uid, gid };
  throw new Error(
    'PostgreSQL refuses to run as root, and neither setpriv nor runuser (util-linux) is available to drop to the postgres user',
  );
}

/** Runs a command to completion; rejects with its output when it fails. */
function run(command: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const output: string[] = [];
    const proc = spawn(command[0], command.slice(1), { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout?.on('data', (c: Buffer) => output.push(c.toString('utf8')));
    proc.stderr?.on('data', (c: Buffer) => output.push(c.toString('utf8')));
    proc.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'ENOENT' ? new Error(`${command[0]}: not found. ${POSTGRES_SERVER_NOT_FOUND_MESSAGE}`) : err),
    );
    proc.once('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${command.join(' ')} failed (code ${code}, signal ${signal}):\n${output.join('')}`));
    });
  });
}

/** One connection attempt: true when the server answers a query. */
async function accepts(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function startPostgresServer(options: StartPostgresServerOptions = {}): Promise<PostgresServerHandle> {
  assertServerProcessesAllowed('postgres');
  const binaries = findPostgresBinaries();
  const as = runAs();
  const port = options.port ?? (await findFreePort());
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  const url = `postgres://postgres@${HOST}:${port}/postgres`;

  // Short paths: the Unix socket path (<socketDir>/.s.PGSQL.<port>) must fit in 107 bytes.
  const root = mkdtempSync(join(tmpdir(), 'pg-test-'));
  const dataDir = join(root, 'data');
  const socketDir = join(root, 'sock');
  mkdirSync(socketDir);
  if (as.uid !== undefined) {
    chownSync(root, as.uid, as.gid!);
    chownSync(socketDir, as.uid, as.gid!);
  }
  const removeRoot = () => rmSync(root, { recursive: true, force: true });

  let child: ChildProcess | undefined;
  // If the test process exits without stop() (a crash, a forgotten afterAll), do not leave a server behind.
  // SIGQUIT is PostgreSQL's immediate shutdown (backends included); only synchronous work is possible here.
  const onExit = () => child?.kill('SIGQUIT');
  process.once('exit', onExit);

  try {
    await run(
      [...as.prefix, binaries.initdb, '-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C'],
      root,
    );

    // -F: fsync off (a test server's data is thrown away).
    child = await startServerProcess({
      name: 'postgres',
      command: [...as.prefix, binaries.postgres, '-D', dataDir, '-k', socketDir, '-h', HOST, '-p', String(port), '-F'],
      cwd: root,
      isReady: () => accepts(url),
      readyTimeoutMs,
      pollMs: 100,
      readiness: `accepting connections on port ${port}`,
    });
  } catch (error) {
    await stopServerProcess(child, 'SIGKILL');
    child = undefined;
    process.removeListener('exit', onExit);
    removeRoot();
    throw error;
  }

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      // SIGINT is PostgreSQL's "fast" shutdown: open connections are terminated, not waited for.
      await stopServerProcess(child, 'SIGINT');
      child = undefined;
      process.removeListener('exit', onExit);
      removeRoot();
    })());

  return { url, port, stop };
}
