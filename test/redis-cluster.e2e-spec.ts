/**
 * Two replicas of a callee (Express and Fastify) whose nonces and rate limits live on a real Redis
 * Cluster (three masters, three replicas, started here): accepted once, replays refused by the other
 * replica, per-caller budgets and rate limits shared, whether the store was given the cluster's
 * nodes or an ioredis `Cluster`.
 *
 * Then a failover with `waitForReplicas: 1`: the master serving the caller's slot is killed during
 * signed load. While its slot has no master, requests get 503 `replay_store_unavailable` (never 200
 * for a replay, never another error); the replica takes over, the killed node comes back as its
 * replica, and the service recovers on its own. Every accepted request is then replayed: none is
 * accepted again, since no claim counted before a replica had it.
 *
 * Needs redis-server and redis-cli (fails, never skips, when they are missing).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Cluster } from 'ioredis';
import type { ReplayRedisOptions } from 'nest-service-auth';
import type { SigningCredential } from 'nest-service-auth/core';
import { newCredential, type TestCredential } from './support/credentials.js';
import { rawRequest, reasonOf, signedHeaders, signingCredential, type RawResponse } from './support/raw-http.js';
import { startRedisCluster, type RedisClusterHandle } from './support/redis-cluster.js';
import { LIMITED_PER_MINUTE, startReplayStoreApp, type ReplayStoreApp } from './support/replay-store-app.js';
import { sleep } from './support/server-process.js';

const BUDGET = 40;
const credentials: Record<string, TestCredential> = {
  'order-service': newCredential('order-2026-11'),
  greedy: newCredential('greedy-2026-11'),
  limited: newCredential('limited-2026-11'),
};
const signer = (id: string): SigningCredential => signingCredential(credentials[id]);
const sign = (id: string, path = '/free') => signedHeaders('http://inventory.internal', signer(id), { method: 'GET', path });
const send = (app: ReplayStoreApp, headers: Record<string, string>, path = '/free'): Promise<RawResponse> =>
  rawRequest(app.url, { method: 'GET', path, headers, timeoutMs: 10_000 });
const outcome = (res: RawResponse) => `${res.status} ${reasonOf(res) ?? ''}`.trim();

describe('callee replicas on a Redis Cluster', () => {
  let cluster: RedisClusterHandle;
  let injected: Cluster;
  let a: ReplayStoreApp;
  let b: ReplayStoreApp;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    // One replica creates its client from the nodes, the other is given an ioredis Cluster.
    injected = new Cluster(cluster.nodes, { enableOfflineQueue: true, redisOptions: { maxRetriesPerRequest: 0 } });
    injected.on('error', () => undefined);
    const fromNodes: ReplayRedisOptions = { cluster: { nodes: cluster.nodes }, timeoutMs: 1000 };
    [a, b] = await Promise.all([
      startReplayStoreApp('express', credentials, fromNodes, { cluster: { nodes: cluster.nodes } }, BUDGET),
      startReplayStoreApp('fastify', credentials, { client: injected, timeoutMs: 1000 }, { client: injected }, BUDGET),
    ]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([a?.app.close(), b?.app.close()]);
    injected?.disconnect();
    await cluster?.stop();
  });

  it('a request is accepted once: replayed on the other replica it is 401 nonce_replayed', async () => {
    for (const [first, second] of [
      [a, b],
      [b, a],
    ]) {
      const headers = sign('order-service');
      expect(outcome(await send(first, headers))).toBe('200');
      expect(outcome(await send(second, headers))).toBe('401 nonce_replayed');
      expect(outcome(await send(first, headers))).toBe('401 nonce_replayed');
    }
  });

  it("a caller's nonce budget is shared by both replicas, and is that caller's alone", async () => {
    const outcomes: string[] = [];
    for (let i = 0; i < BUDGET + 2; i++) outcomes.push(outcome(await send(i % 2 ? a : b, sign('greedy'))));
    expect(outcomes.slice(0, BUDGET)).toEqual(Array(BUDGET).fill('200'));
    expect(outcomes.slice(BUDGET)).toEqual(['429 nonce_budget_exhausted', '429 nonce_budget_exhausted']);
    expect(outcome(await send(a, sign('order-service')))).toBe('200');
  });

  it('rate limits are counted over both replicas', async () => {
    const outcomes: number[] = [];
    for (let i = 0; i <= LIMITED_PER_MINUTE; i++)
      outcomes.push((await send(i % 2 ? a : b, sign('limited', '/limited'), '/limited')).status);
    expect(outcomes).toEqual([...Array<number>(LIMITED_PER_MINUTE).fill(200), 429]);
  });
});

describe('Redis Cluster failover during signed load, with waitForReplicas: 1', () => {
  let cluster: RedisClusterHandle;
  let apps: ReplayStoreApp[];
  // The master that serves order-service's nonces is the one killed.
  const callerKey = '{inventory-service:order-service}';

  beforeAll(async () => {
    cluster = await startRedisCluster();
    const redis: ReplayRedisOptions = {
      cluster: { nodes: cluster.nodes },
      timeoutMs: 1000,
      waitForReplicas: { replicas: 1, timeoutMs: 200 },
    };
    apps = await Promise.all(
      (['express', 'fastify'] as const).map((adapter) =>
        startReplayStoreApp(adapter, credentials, redis, { cluster: { nodes: cluster.nodes } }),
      ),
    );
  }, 60_000);

  afterAll(async () => {
    await Promise.all((apps ?? []).map((app) => app.app.close()));
    await cluster?.stop();
  });

  it('503 replay_store_unavailable while the slot has no master, recovery on its own, and no replay accepted after the promotion', async () => {
    const sent: Array<{ afterKill: boolean; headers: Record<string, string>; outcome: string; replay: boolean }> = [];
    let afterKill = false;
    let running = true;
    let turn = 0;
    const accepted = () => sent.filter((r) => !r.replay && r.outcome === '200');
    const worker = async () => {
      while (running) {
        const app = apps[turn++ % apps.length];
        const old = accepted();
        const replay = turn % 4 === 0 && old.length > 0;
        const headers = replay ? old[turn % old.length].headers : sign('order-service');
        const at = afterKill;
        sent.push({ afterKill: at, headers, replay, outcome: outcome(await send(app, headers)) });
      }
    };
    const waitFor = async (what: string, check: () => boolean, timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
        await sleep(20);
      }
    };
    const workers = Array.from({ length: 3 }, worker);
    try {
      await waitFor('30 requests accepted', () => accepted().length >= 30);
      afterKill = true;
      await cluster.killMasterOf(callerKey);
      await cluster.waitUntilHealthy();
      // The promoted replica has no replica of its own until the killed node rejoins: WAIT 1 cannot be met before.
      await cluster.restartKilled();
      await cluster.waitUntilHealthy({ withReplicas: true });
      const healedAt = sent.length;
      await waitFor(
        'the service to recover (10 requests accepted after the failover)',
        () => sent.slice(healedAt).filter((r) => !r.replay && r.outcome === '200').length >= 10,
      );
    } finally {
      running = false;
      await Promise.all(workers);
    }

    const outcomes = new Set(sent.map((r) => r.outcome));
    expect([...outcomes].filter((o) => !['200', '401 nonce_replayed', '503 replay_store_unavailable'].includes(o))).toEqual([]);
    expect(sent.filter((r) => r.replay && r.outcome === '200')).toEqual([]);
    expect(sent.filter((r) => r.afterKill && r.outcome === '503 replay_store_unavailable').length).toBeGreaterThan(0);

    const replays = await Promise.all(accepted().map((r, i) => send(apps[i % apps.length], r.headers).then(outcome)));
    console.log(
      `Redis Cluster failover with waitForReplicas: 1: ${accepted().length} requests accepted, ` +
        `${sent.filter((r) => r.outcome.startsWith('503')).length} answered 503 replay_store_unavailable; ` +
        `replayed after the failover: ${replays.filter((o) => o === '200').length} of ${replays.length} accepted again`,
    );
    expect(replays.filter((o) => o !== '401 nonce_replayed')).toEqual([]);
  }, 90_000);
});
