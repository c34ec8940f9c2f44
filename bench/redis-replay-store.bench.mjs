// RedisNonceStore on one Redis shard: what one shard absorbs, what a nonce costs in Redis memory, and
// what `waitForReplicas` (WAIT 1 after each claim) costs.
//
//   npm run build:lib && node bench/redis-replay-store.bench.mjs [--claims 20000] [--concurrency 64] [--memory-nonces 200000]
//
// Starts its own master and replica (`redis-server` on free loopback ports, no persistence) and stops
// them on exit. Three measurements:
//   shard    claims/s from this process at `concurrency` claims in flight, and the master's own CPU
//            time per claim (INFO commandstats, usec_per_call of EVALSHA): 1e6 / that is the ceiling
//            of one shard, Redis running a script on one core, whatever the number of clients.
//   memory   used_memory before and after `memory-nonces` live nonces (one caller, then 100 callers),
//            divided by the number of nonces: the nonce key, its expiry and its budget entry.
//   wait     the same claims with and without waitForReplicas { replicas: 1 }: latency one at a time
//            (p50/p99) and throughput at `concurrency` in flight; the ratio is the price of the option.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importLib, median, numberOption } from './common.mjs';

const claims = numberOption('claims', 20_000);
const concurrency = numberOption('concurrency', 64);
const memoryNonces = numberOption('memory-nonces', 200_000);
const { RedisNonceStore } = await importLib('redis.js');
const { Redis } = await import('ioredis');

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

const dir = mkdtempSync(join(tmpdir(), 'redis-bench-'));
const servers = [];
async function startRedis(args = []) {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...args],
    {
      stdio: 'ignore',
    },
  );
  servers.push(child);
  const admin = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => 50 });
  admin.on('error', () => undefined);
  for (let i = 0; i < 100; i++) {
    try {
      await admin.connect();
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  await admin.ping();
  return { port, admin };
}
const stopAll = () => {
  for (const child of servers) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
};
process.on('exit', stopAll);

const master = await startRedis(['--maxmemory-policy', 'noeviction']);
const replica = await startRedis(['--replicaof', '127.0.0.1', String(master.port)]);
for (let i = 0; !/master_link_status:up/.test(await replica.admin.info('replication')); i++) {
  if (i > 200) throw new Error('replica never synced');
  await new Promise((r) => setTimeout(r, 50));
}

const url = `redis://127.0.0.1:${master.port}`;
const expiresAt = () => Date.now() + 600_000;
const nonce = () => randomBytes(16).toString('base64url');

/** Runs `count` claims with `inFlight` at a time; returns { perSecond, latencies (ms) }. */
async function load(store, count, inFlight, callers = 1) {
  const latencies = [];
  let next = 0;
  const started = process.hrtime.bigint();
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const t = process.hrtime.bigint();
      const ok = await store.claim({ callerId: `caller-${i % callers}`, keyId: 'k1', nonce: nonce() }, expiresAt());
      latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
      if (ok !== true) throw new Error('a fresh nonce was refused');
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { perSecond: count / seconds, latencies };
}
const percentile = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const usecPerEvalsha = async () => Number(/cmdstat_evalsha:.*usec_per_call=([\d.]+)/.exec(await master.admin.info('commandstats'))?.[1]);

const big = Number.MAX_SAFE_INTEGER;
const plain = new RedisNonceStore({ url, namespace: 'bench', maxNoncesPerCaller: big, timeoutMs: 2000 });
const waiting = new RedisNonceStore({
  url,
  namespace: 'bench',
  maxNoncesPerCaller: big,
  timeoutMs: 2000,
  waitForReplicas: { replicas: 1, timeoutMs: 1000 },
});

// Warm-up (script cache, connections, JIT).
await load(plain, 2000, concurrency, 100);
await load(waiting, 2000, concurrency, 100);

// shard
await master.admin.config('RESETSTAT');
const shard = await load(plain, claims, concurrency, 100);
const usec = await usecPerEvalsha();

// wait
const rounds = 3;
const serial = { plain: [], waiting: [] };
const parallel = { plain: [], waiting: [] };
for (let r = 0; r < rounds; r++) {
  for (const [name, store] of [
    ['plain', plain],
    ['waiting', waiting],
  ]) {
    serial[name].push(...(await load(store, Math.floor(claims / 10), 1, 100)).latencies);
    parallel[name].push((await load(store, claims, concurrency, 100)).perSecond);
  }
}

// memory
await master.admin.flushall();
const memory = [];
for (const callers of [1, 100]) {
  await master.admin.flushall();
  const before = Number(/used_memory:(\d+)/.exec(await master.admin.info('memory'))[1]);
  await load(plain, memoryNonces, concurrency, callers);
  const after = Number(/used_memory:(\d+)/.exec(await master.admin.info('memory'))[1]);
  memory.push({ callers, bytesPerNonce: (after - before) / memoryNonces });
}

await Promise.all([plain.close(), waiting.close()]);
master.admin.disconnect();
replica.admin.disconnect();

const fmt = (n, d = 0) => n.toLocaleString('en', { maximumFractionDigits: d, minimumFractionDigits: d });
const p = (xs, q) => fmt(percentile(xs, q), 2);
const throughput = { plain: median(parallel.plain), waiting: median(parallel.waiting) };
console.log(
  `RedisNonceStore on one shard (redis-server on 127.0.0.1, master + 1 replica, ${concurrency} claims in flight, Node ${process.version})`,
);
console.log(
  `  shard    ${fmt(shard.perSecond)} claims/s from one Node process; master CPU per claim ${fmt(usec, 2)} µs -> ceiling ${fmt(1e6 / usec)} claims/s per shard`,
);
for (const { callers, bytesPerNonce } of memory) {
  console.log(
    `  memory   ${fmt(bytesPerNonce)} bytes per live nonce in Redis (${fmt(memoryNonces)} nonces, ${callers} caller(s), used_memory delta)`,
  );
}
console.log(
  `  wait     one at a time: p50 ${p(serial.plain, 50)} ms, p99 ${p(serial.plain, 99)} ms without; p50 ${p(serial.waiting, 50)} ms, p99 ${p(serial.waiting, 99)} ms with WAIT 1`,
);
console.log(
  `           ${concurrency} in flight: ${fmt(throughput.plain)} claims/s without, ${fmt(throughput.waiting)} claims/s with WAIT 1`,
);
console.log(
  `  ratio    waitForReplicas costs ${(median(serial.waiting) / median(serial.plain)).toFixed(2)}x the median latency ` +
    `and keeps ${((throughput.waiting / throughput.plain) * 100).toFixed(0)}% of the throughput`,
);
stopAll();
process.exit(0);
