/**
 * Two replicas of a callee (Express and Fastify) whose nonces and rate limits live on a Redis master
 * monitored by Sentinel (one master, one replica, three Sentinels, all real, started here):
 * accepted once, replays refused by the other replica, per-caller budgets and rate limits shared.
 *
 * Then the failover, with and without `waitForReplicas`: the master is killed during signed load,
 * right after a partition kept the replica from copying its latest writes (the asynchronous
 * replication window, made wide and deterministic). While no master answers, requests get 503
 * `replay_store_unavailable` (never 200 for a replay, never another error); once Sentinel promotes
 * the replica the service recovers on its own. Every accepted request is then replayed: without
 * WAIT, exactly those accepted during the partition are accepted again (the replica never had their
 * nonces); with WAIT, none (the master could not count them without the replica, so it refused them).
 *
 * Needs redis-server (fails, never skips, when it is missing).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import type { ReplayRedisOptions } from 'nest-service-auth';
import type { SigningCredential } from 'nest-service-auth/core';
import { newCredential, type TestCredential } from './support/credentials.js';
import { rawRequest, reasonOf, signedHeaders, signingCredential, type RawResponse } from './support/raw-http.js';
import { startRedisSentinel, type RedisSentinelHandle } from './support/redis-sentinel.js';
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
const countOf = (xs: string[]) => xs.reduce<Record<string, number>>((acc, x) => ({ ...acc, [x]: (acc[x] ?? 0) + 1 }), {});
const outcome = (res: RawResponse) => `${res.status} ${reasonOf(res) ?? ''}`.trim();

function sentinelOptions(sentinel: RedisSentinelHandle): ReplayRedisOptions {
  return { sentinel: { sentinels: sentinel.sentinels, name: sentinel.name }, timeoutMs: 1000 };
}

describe('callee replicas on a Redis master behind Sentinel', () => {
  let sentinel: RedisSentinelHandle;
  let injected: Redis;
  let a: ReplayStoreApp;
  let b: ReplayStoreApp;

  beforeAll(async () => {
    sentinel = await startRedisSentinel();
    // One replica creates its client from the options, the other is given an ioredis client configured for Sentinel.
    injected = new Redis({ sentinels: sentinel.sentinels, name: sentinel.name, maxRetriesPerRequest: 0 });
    injected.on('error', () => undefined);
    [a, b] = await Promise.all([
      startReplayStoreApp('express', credentials, sentinelOptions(sentinel), { sentinel: sentinelOptions(sentinel).sentinel! }, BUDGET),
      startReplayStoreApp('fastify', credentials, { client: injected, timeoutMs: 1000 }, { client: injected }, BUDGET),
    ]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([a?.app.close(), b?.app.close()]);
    injected?.disconnect();
    await sentinel?.stop();
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

describe.each([
  { mode: 'without waitForReplicas', waitForReplicas: undefined },
  { mode: 'with waitForReplicas: 1', waitForReplicas: { replicas: 1, timeoutMs: 200 } },
])('Sentinel failover during signed load, $mode', ({ mode, waitForReplicas }) => {
  let sentinel: RedisSentinelHandle;
  let apps: ReplayStoreApp[];

  beforeAll(async () => {
    sentinel = await startRedisSentinel();
    const redis = { ...sentinelOptions(sentinel), waitForReplicas };
    apps = await Promise.all(
      (['express', 'fastify'] as const).map((adapter) => startReplayStoreApp(adapter, credentials, redis, { sentinel: redis.sentinel! })),
    );
  }, 60_000);

  afterAll(async () => {
    await Promise.all((apps ?? []).map((app) => app.app.close()));
    await sentinel?.stop();
  });

  it('503 replay_store_unavailable while no master answers, recovery on its own, and the replays a promotion lets through', async () => {
    type Phase = 'before' | 'syncing' | 'partitioned' | 'failover';
    const sent: Array<{ phase: Phase; headers: Record<string, string>; outcome: string; replay: boolean }> = [];
    let phase: Phase = 'before';
    let running = true;
    let turn = 0;
    const acceptedBefore = () => sent.filter((r) => r.phase === 'before' && !r.replay && r.outcome === '200');

    // Three workers, each one request at a time; every fourth request replays one accepted before the partition.
    const worker = async () => {
      while (running) {
        const app = apps[turn++ % apps.length];
        const old = acceptedBefore();
        const replay = turn % 4 === 0 && old.length > 0;
        const headers = replay ? old[turn % old.length].headers : sign('order-service');
        const at: Phase = phase;
        sent.push({ phase: at, headers, replay, outcome: outcome(await send(app, headers)) });
      }
    };
    const waitFor = async (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!(await check())) {
        if (Date.now() > deadline) throw new Error(`${mode}: ${what} within ${timeoutMs} ms`);
        await sleep(20);
      }
    };
    const admin = (port: number) => {
      const node = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null });
      node.on('error', () => undefined);
      return node;
    };
    let partitionStart: number | undefined;
    const workers = Array.from({ length: 3 }, worker);
    try {
      await waitFor('30 requests accepted', () => acceptedBefore().length >= 30);
      // Everything accepted so far is on the replica (same replication offset), then the partition begins.
      const [master, replica] = [admin(sentinel.master.port), admin(sentinel.replica.port)];
      const offset = async (node: Redis) =>
        Number(/(?:master_repl_offset|slave_repl_offset):(\d+)/.exec(await node.info('replication'))?.[1]);
      // Requests sent from now on may or may not reach the replica before the partition: neither phase.
      phase = 'syncing';
      await waitFor('replica in sync', async () => (await offset(replica)) === (await offset(master)));
      sentinel.replicaLink.hold();
      // Sent after the partition began: their claims can never reach the replica.
      phase = 'partitioned';
      partitionStart = sent.length;
      await waitFor('15 answers to requests sent during the partition', () => sent.filter((r) => r.phase === 'partitioned').length >= 15);
      master.disconnect();
      replica.disconnect();

      phase = 'failover';
      await sentinel.master.kill();
      sentinel.replicaLink.cut();
      await sentinel.waitForPromotion();
      // The old master's machine comes back as a replica of the new one (what Sentinel would make of it
      // too): with waitForReplicas, claims count again once a replica acknowledges them.
      await sentinel.addReplica();
      const promotedAt = sent.length;
      await waitFor(
        'the service to recover (10 requests accepted after promotion)',
        () => sent.slice(promotedAt).filter((r) => !r.replay && r.outcome === '200').length >= 10,
      ).catch((err: Error) => {
        const since = sent.slice(promotedAt).map((r) => r.outcome);
        throw new Error(`${err.message}; answers since: ${JSON.stringify(countOf(since))}`);
      });
    } finally {
      running = false;
      await Promise.all(workers);
    }

    // Only 200, 401 nonce_replayed (a replay) and 503 replay_store_unavailable; a replay of a nonce the replica had is never 200.
    const outcomes = new Set(sent.map((r) => r.outcome));
    expect([...outcomes].filter((o) => !['200', '401 nonce_replayed', '503 replay_store_unavailable'].includes(o))).toEqual([]);
    expect(sent.filter((r) => r.replay && r.outcome === '200')).toEqual([]);
    expect(sent.filter((r) => r.phase === 'failover' && r.outcome === '503 replay_store_unavailable').length).toBeGreaterThan(0);

    const accepted = sent.filter((r) => !r.replay && r.outcome === '200');
    const acceptedInPartition = sent
      .slice(partitionStart ?? sent.length)
      .filter((r) => r.phase === 'partitioned' && !r.replay && r.outcome === '200');
    const replays = await Promise.all(accepted.map((r, i) => send(apps[i % apps.length], r.headers).then(outcome)));
    const replaysAccepted = replays.filter((o) => o === '200').length;
    expect(replays.filter((o) => o !== '200' && o !== '401 nonce_replayed')).toEqual([]);
    console.log(
      `Sentinel failover ${mode}: ${accepted.length} requests accepted, ${acceptedInPartition.length} of them during the partition, ` +
        `${sent.filter((r) => r.outcome.startsWith('503')).length} answered 503 replay_store_unavailable; ` +
        `replayed after promotion: ${replaysAccepted} of ${accepted.length} accepted again`,
    );
    if (waitForReplicas) {
      expect(acceptedInPartition).toEqual([]);
      expect(replaysAccepted).toBe(0);
    } else {
      expect(acceptedInPartition.length).toBeGreaterThan(0);
      // Accepted during the partition (before it, the replica had caught up): those nonces died with the master.
      expect(replaysAccepted).toBeGreaterThanOrEqual(acceptedInPartition.length);
    }
  }, 90_000);
});
