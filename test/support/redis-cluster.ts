/**
 * A throwaway, real Redis Cluster for tests: three masters and three replicas (`redis-server
 * --cluster-enabled yes`, joined by `redis-cli --cluster create … --cluster-replicas 1`), 127.0.0.1
 * only, on free ports (client and bus ports both picked), with no persistence and a short node
 * timeout, so that a replica takes over about two seconds after its master dies. Fails (never skips)
 * when redis-server or redis-cli is missing.
 *
 *   const cluster = await startRedisCluster();
 *   new RedisNonceStore({ cluster: { nodes: cluster.nodes }, namespace: 'svc' })
 *   await cluster.killMasterOf('some{tag}key'); await cluster.waitUntilHealthy();
 *   await cluster.stop();
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { findRedisServerBinary, startRedisServer, withRedisNode, type RedisServerHandle } from './redis-server.js';
import { findFreePort, LOOPBACK, sleep } from './server-process.js';

/** How long without an answer before a node is failed and its replica elected (`cluster-node-timeout`). */
export const CLUSTER_NODE_TIMEOUT_MS = 1000;

export interface RedisNodeAddress {
  host: string;
  port: number;
}

export interface RedisClusterHandle {
  /** Every node at start (a client's seed list; one live node is enough). */
  readonly nodes: RedisNodeAddress[];
  /** The port of the master now serving `key`'s slot. */
  masterPortOf(key: string): Promise<number>;
  /** SIGKILL the master serving `key`'s slot; resolves with its port once it has exited. */
  killMasterOf(key: string): Promise<number>;
  /** Starts the killed nodes again (same port, empty dataset): each rejoins as a replica of the master that took over. */
  restartKilled(): Promise<void>;
  /**
   * Resolves once every live node says `cluster_state:ok` and there are `masters` masters (a
   * replica was promoted for a killed one); `withReplicas`: and each master has a synced replica.
   */
  waitUntilHealthy(options?: { timeoutMs?: number; withReplicas?: boolean }): Promise<void>;
  stop(): Promise<void>;
}

export const REDIS_CLI_NOT_FOUND_MESSAGE =
  'redis-cli not found (next to redis-server or on PATH): install it (Debian: apt-get install redis-tools, a dependency of redis-server); npm test installs it (scripts/provision-test-servers.sh)';

/** `$REDIS_CLI_BIN`, else the `redis-cli` next to redis-server, else the first on PATH. Throws if absent. */
export function findRedisCliBinary(): string {
  const explicit = process.env.REDIS_CLI_BIN;
  const dirs = [dirname(findRedisServerBinary()), ...(process.env.PATH ?? '').split(delimiter).filter(Boolean)];
  const candidates = explicit ? [explicit] : dirs.map((dir) => join(dir, 'redis-cli'));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  throw new Error(REDIS_CLI_NOT_FOUND_MESSAGE);
}

/** Starts `masters` masters with one replica each and waits until the cluster serves every slot. */
export async function startRedisCluster({ masters = 3 } = {}): Promise<RedisClusterHandle> {
  const cli = findRedisCliBinary();
  const dir = mkdtempSync(join(tmpdir(), 'redis-cluster-'));
  const servers = new Map<number, RedisServerHandle>();
  const killed = new Map<number, RedisServerHandle>();
  const stop = async () => {
    await Promise.all([...servers.values(), ...killed.values()].map((server) => server.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const started = await Promise.all(
      Array.from({ length: masters * 2 }, async () => {
        const [port, busPort] = [await findFreePort(), await findFreePort()];
        const server = await startRedisServer({
          port,
          dir,
          args: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            `nodes-${port}.conf`,
            '--cluster-port',
            String(busPort),
            '--cluster-node-timeout',
            String(CLUSTER_NODE_TIMEOUT_MS),
            // Any replica may take over, however long it was out of touch: the tests kill masters on purpose.
            '--cluster-replica-validity-factor',
            '0',
          ],
        });
        servers.set(port, server);
        return port;
      }),
    );
    await promisify(execFile)(
      cli,
      ['--cluster', 'create', ...started.map((port) => `${LOOPBACK}:${port}`), '--cluster-replicas', '1', '--cluster-yes'],
      {
        timeout: 30_000,
      },
    );
  } catch (err) {
    await stop();
    throw err;
  }

  const livePorts = () => [...servers.keys()];
  const masterPortOf = async (key: string): Promise<number> => {
    for (const port of livePorts()) {
      try {
        const slot = await withRedisNode(port, (node) => node.cluster('KEYSLOT', key));
        const slots = await withRedisNode(port, (node) => node.cluster('SLOTS'));
        const master = slots.find(([from, to]) => slot >= from && slot <= to)?.[2];
        if (master) return master[1];
      } catch {
        // that node is down: ask another
      }
    }
    throw new Error(`no live cluster node knows the master of ${key}`);
  };

  const waitUntilHealthy = async ({ timeoutMs = 30_000, withReplicas = false } = {}): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      try {
        const states = await Promise.all(livePorts().map((port) => withRedisNode(port, (node) => node.cluster('INFO'))));
        const masterPorts = await Promise.all(
          livePorts().map((port) => withRedisNode(port, (node) => node.role()).then((role) => (role[0] === 'master' ? port : undefined))),
        );
        const ready = await Promise.all(
          masterPorts
            .filter((port): port is number => port !== undefined)
            .map((port) => withRedisNode(port, (node) => node.info('replication'))),
        );
        last = states.find((info) => !info.includes('cluster_state:ok')) ?? '';
        // withReplicas: every master has a synced replica, so WAIT 1 is satisfied and a failover has a candidate.
        const replicated = !withReplicas || ready.every((info) => /slave0:.*state=online/.test(info));
        if (!last && ready.length === masters && replicated) return;
      } catch (err) {
        last = (err as Error).message;
      }
      await sleep(100);
    }
    throw new Error(`Redis Cluster not healthy within ${timeoutMs} ms: ${last}`);
  };

  try {
    await waitUntilHealthy({ withReplicas: true });
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    nodes: livePorts().map((port) => ({ host: LOOPBACK, port })),
    masterPortOf,
    killMasterOf: async (key) => {
      const port = await masterPortOf(key);
      const server = servers.get(port);
      if (!server) throw new Error(`port ${port} is not a node of this cluster`);
      await server.kill();
      servers.delete(port);
      killed.set(port, server);
      return port;
    },
    restartKilled: async () => {
      for (const [port, server] of killed) {
        await server.restart();
        killed.delete(port);
        servers.set(port, server);
      }
    },
    waitUntilHealthy,
    stop,
  };
}
