/**
 * A throwaway, real Redis Sentinel setup for tests: one master, one replica and three Sentinels
 * (`redis-server <file> --sentinel`, quorum 2), 127.0.0.1 only, on free ports, with no persistence
 * and `down-after-milliseconds` 1000, so that the replica is promoted a few seconds after the master
 * dies. Fails (never skips) when redis-server is missing.
 *
 * The replica replicates through a TcpLink, so a test can partition it from the master
 * (`replicaLink.hold()`): the master then acknowledges writes the replica never receives, the
 * asynchronous-replication window a failover loses.
 *
 *   const sentinel = await startRedisSentinel();
 *   new RedisNonceStore({ sentinel: { sentinels: sentinel.sentinels, name: sentinel.name }, namespace: 'svc' })
 *   sentinel.replicaLink.hold(); await sentinel.master.kill(); await sentinel.waitForPromotion();
 *   await sentinel.stop();
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedisServer, withRedisNode, type RedisServerHandle } from './redis-server.js';
import type { RedisNodeAddress } from './redis-cluster.js';
import { findFreePort, LOOPBACK, sleep } from './server-process.js';
import { startTcpLink, type TcpLink } from './tcp-link.js';

export const SENTINEL_MASTER_NAME = 'replay';
export const SENTINEL_DOWN_AFTER_MS = 1000;

export interface RedisSentinelHandle {
  /** The master group's name (`sentinel monitor <name> …`). */
  readonly name: string;
  readonly sentinels: RedisNodeAddress[];
  readonly master: RedisServerHandle;
  readonly replica: RedisServerHandle;
  /** The replica's replication connection to the master runs through this link. */
  readonly replicaLink: TcpLink;
  /** The master's port according to the Sentinels (asked in turn until one answers). */
  masterPort(): Promise<number>;
  /** Starts one more replica of the current master; resolves once it is in sync. */
  addReplica(): Promise<RedisServerHandle>;
  /** Resolves once every Sentinel names the replica as the master. */
  waitForPromotion(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    await sleep(100);
  }
  throw new Error(`${what} within ${timeoutMs} ms${last ? `: ${(last as Error).message}` : ''}`);
}

export async function startRedisSentinel({ sentinelCount = 3, quorum = 2 } = {}): Promise<RedisSentinelHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'redis-sentinel-'));
  const started: RedisServerHandle[] = [];
  let replicaLink: TcpLink | undefined;
  const stop = async () => {
    await Promise.all(started.map((server) => server.stop()));
    await replicaLink?.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const master = await startRedisServer({ dir });
    started.push(master);
    replicaLink = await startTcpLink(master.port);
    const replica = await startRedisServer({ dir, args: ['--replicaof', LOOPBACK, String(replicaLink.port)] });
    started.push(replica);
    await until('replica in sync', 10_000, async () =>
      /master_link_status:up/.test(await withRedisNode(replica.port, (node) => node.info('replication'))),
    );

    const sentinelPorts = await Promise.all(Array.from({ length: sentinelCount }, () => findFreePort()));
    for (const port of sentinelPorts) {
      const file = join(dir, `sentinel-${port}.conf`);
      writeFileSync(
        file,
        [
          `sentinel monitor ${SENTINEL_MASTER_NAME} ${LOOPBACK} ${master.port} ${quorum}`,
          `sentinel down-after-milliseconds ${SENTINEL_MASTER_NAME} ${SENTINEL_DOWN_AFTER_MS}`,
          `sentinel failover-timeout ${SENTINEL_MASTER_NAME} 10000`,
          '',
        ].join('\n'),
      );
      started.push(await startRedisServer({ port, dir, configFile: file, args: ['--sentinel'] }));
    }
    // Sentinels find the replica (master's INFO) and each other (hello messages) before they can fail over.
    await until('Sentinels aware of the replica and of each other', 20_000, async () => {
      const views = await Promise.all(
        sentinelPorts.map((port) =>
          withRedisNode(port, async (node) => ({
            replicas: (await node.call('SENTINEL', 'REPLICAS', SENTINEL_MASTER_NAME)) as unknown[],
            peers: (await node.call('SENTINEL', 'SENTINELS', SENTINEL_MASTER_NAME)) as unknown[],
          })),
        ),
      );
      return views.every((view) => view.replicas.length === 1 && view.peers.length === sentinelCount - 1);
    });

    const masterPort = async (): Promise<number> => {
      for (const port of sentinelPorts) {
        try {
          const [, masterPortText] = (await withRedisNode(port, (node) =>
            node.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_MASTER_NAME),
          )) as string[];
          return Number(masterPortText);
        } catch {
          // that Sentinel is not answering: ask the next
        }
      }
      throw new Error('no Sentinel answered');
    };

    return {
      name: SENTINEL_MASTER_NAME,
      sentinels: sentinelPorts.map((port) => ({ host: LOOPBACK, port })),
      master,
      replica,
      replicaLink,
      masterPort,
      addReplica: async () => {
        const server = await startRedisServer({ dir, args: ['--replicaof', LOOPBACK, String(await masterPort())] });
        started.push(server);
        await until('new replica in sync', 10_000, async () =>
          /master_link_status:up/.test(await withRedisNode(server.port, (node) => node.info('replication'))),
        );
        return server;
      },
      waitForPromotion: (timeoutMs = 30_000) =>
        until('replica promoted', timeoutMs, async () => {
          const ports = await Promise.all(
            sentinelPorts.map((port) =>
              withRedisNode(port, (node) => node.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_MASTER_NAME)),
            ),
          );
          const role = await withRedisNode(replica.port, (node) => node.role());
          return role[0] === 'master' && ports.every((addr) => Number((addr as string[])[1]) === replica.port);
        }),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
