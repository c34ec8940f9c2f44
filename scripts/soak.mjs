#!/usr/bin/env node
// Soak under faults (not part of npm test): two inventory-service replicas whose nonces live in one
// Redis, behind a round-robin proxy; order-service places orders through it at a steady rate while the
// script restarts Redis (a third of the way) and one replica (two thirds of the way), and replays
// captured signed requests against the other replica all along.
//
//   npm run build && npm run soak -- --minutes 10 [--rate 20]
//
// Redis runs with `appendonly yes`, `appendfsync always` and is restarted with SIGTERM: a restart then
// keeps every nonce (SECURITY.md: without persistence a restarted Redis forgets the last window).
// Each replica keeps its own stock (PGlite in a data directory of its own, kept over its restart), so
// "stock moved" is the sum of both replicas' decrements. Reports orders placed vs stock moved, replays
// tried vs accepted, 5xx other than 503 replay_store_unavailable, order latency p50/p99, and each
// process's RSS over time. Exit code 1 if an order was lost or applied twice, a replay was accepted,
// or an undocumented 5xx came back.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deriveKeys, signRequest } from 'nest-service-auth/core';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const HOST = '127.0.0.1';
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const minutes = arg('minutes', 2);
const rate = arg('rate', 20);
if (!(minutes > 0 && minutes <= 120) || !(rate > 0 && rate <= 500)) throw new Error('--minutes in (0, 120], --rate in (0, 500]');
for (const app of ['inventory-service', 'order-service']) {
  if (!existsSync(join(ROOT, 'dist/apps', app, 'main.js'))) throw new Error(`dist/apps/${app}/main.js is missing: run npm run build first`);
}

const freePort = () =>
  new Promise((ok, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const dataRoot = mkdtempSync(join(tmpdir(), 'nest-service-auth-soak-'));
const children = new Set();

/** A child process that can be stopped (SIGTERM, then SIGKILL) and started again with the same arguments. */
function processOf(name, command, args, env = {}) {
  const handle = {
    name,
    child: undefined,
    start() {
      handle.child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: 'ignore' });
      children.add(handle.child);
      handle.child.once('exit', () => children.delete(handle.child));
    },
    async stop() {
      const child = handle.child;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
    rssMb() {
      try {
        return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${handle.child.pid}/status`, 'utf8'))[1]) / 1024;
      } catch {
        return NaN;
      }
    },
  };
  return handle;
}

async function waitFor(what, check, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await sleep(100);
  }
}
const healthy = (port) => async () => (await fetch(`http://${HOST}:${port}/health`, { signal: AbortSignal.timeout(1000) })).ok;

// Credentials for the pair, made as the README says.
const credential = {
  id: `order-soak-${randomBytes(3).toString('hex')}`,
  apiKey: `sk_${randomBytes(32).toString('base64url')}`,
  secret: randomBytes(32).toString('base64url'),
};
const keyList = `${credential.id}:${credential.apiKey}:${credential.secret}`;
const keys = deriveKeys(Buffer.from(credential.secret, 'base64url'));

const stats = {
  orders: {},
  latencies: [],
  inventory5xx: {},
  replaysTried: 0,
  replaysAccepted: 0,
  replayOutcomes: {},
  rss: [],
};
const bump = (map, key) => (map[key] = (map[key] ?? 0) + 1);

async function main() {
  const redisPort = await freePort();
  const redis = processOf('redis', 'redis-server', [
    '--port',
    String(redisPort),
    '--bind',
    HOST,
    '--dir',
    dataRoot,
    '--save',
    '',
    '--appendonly',
    'yes',
    '--appendfsync',
    'always',
    '--maxmemory-policy',
    'noeviction',
  ]);
  redis.start();
  await waitFor('Redis', async () => {
    const { Redis } = await import('ioredis');
    const probe = new Redis({ port: redisPort, host: HOST, lazyConnect: true, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      return (await probe.ping()) === 'PONG';
    } finally {
      probe.disconnect();
    }
  });

  const replicas = [];
  for (const index of [1, 2]) {
    const port = await freePort();
    const replica = processOf(`inventory-${index}`, process.execPath, ['dist/apps/inventory-service/main.js'], {
      PORT: String(port),
      HOST,
      SERVICE_AUTH_CALLERS: 'order-service',
      SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS: keyList,
      INVENTORY_DATA_DIR: join(dataRoot, `inventory-${index}`),
      REDIS_URL: `redis://${HOST}:${redisPort}`,
      RATE_LIMIT_PER_MINUTE: '1000000',
      // Plain answers to plain requests, so the script can read the stock without decrypting it.
      ENCRYPTION_POLICY: 'optional',
    });
    Object.assign(replica, { port, up: false });
    replica.start();
    replicas.push(replica);
  }
  await Promise.all(replicas.map((r) => waitFor(r.name, healthy(r.port)).then(() => (r.up = true))));

  // Round-robin proxy over the replicas that are up; keeps a sample of signed requests to replay.
  const captured = [];
  let turn = 0;
  const proxy = createHttpServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const up = replicas.filter((r) => r.up);
      const target = up[turn++ % Math.max(1, up.length)];
      const body = Buffer.concat(chunks);
      if (!target) {
        res.writeHead(502).end();
        return;
      }
      if (turn % 10 === 0) captured.push({ from: target, method: req.method, path: req.url, headers: { ...req.headers }, body });
      const upstream = httpRequest({ host: HOST, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        const parts = [];
        answer.on('data', (c) => parts.push(c));
        answer.on('end', () => {
          const text = Buffer.concat(parts);
          if (answer.statusCode >= 500) bump(stats.inventory5xx, `${answer.statusCode} ${reasonOf(text)}`);
          res.writeHead(answer.statusCode, answer.headers).end(text);
        });
      });
      upstream.on('error', () => res.headersSent || res.writeHead(502).end());
      upstream.end(body);
    });
  });
  const proxyPort = await freePort();
  await new Promise((r) => proxy.listen(proxyPort, HOST, r));

  const orderPort = await freePort();
  const order = processOf('order-service', process.execPath, ['dist/apps/order-service/main.js'], {
    PORT: String(orderPort),
    HOST,
    SERVICE_AUTH_UPSTREAMS: 'inventory-service',
    SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_URL: `http://${HOST}:${proxyPort}`,
    SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_KEYS: keyList,
  });
  order.start();
  await waitFor('order-service', healthy(orderPort));
  const processes = [redis, ...replicas, order];
  const stockBefore = await Promise.all(replicas.map(stockOf));

  const durationMs = minutes * 60_000;
  const started = Date.now();
  const inFlight = new Set();
  const sampleRss = () => stats.rss.push({ atS: Math.round((Date.now() - started) / 1000), mb: processes.map((p) => p.rssMb()) });
  sampleRss();
  const rssTimer = setInterval(sampleRss, Math.max(5_000, durationMs / 12));

  const placeOrder = async () => {
    const t = performance.now();
    try {
      const res = await fetch(`http://${HOST}:${orderPort}/api/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ productId: 'P123', quantity: 1 }),
        signal: AbortSignal.timeout(15_000),
      });
      await res.text();
      bump(stats.orders, String(res.status));
    } catch (err) {
      bump(stats.orders, `error ${err.name}`);
    }
    stats.latencies.push(performance.now() - t);
  };
  const replay = async () => {
    const sample = captured[Math.floor(Math.random() * captured.length)];
    if (!sample) return;
    const other = replicas.find((r) => r !== sample.from && r.up) ?? sample.from;
    stats.replaysTried++;
    try {
      const res = await fetch(`http://${HOST}:${other.port}${sample.path}`, {
        method: sample.method,
        headers: Object.fromEntries(Object.entries(sample.headers).filter(([k]) => !['host', 'connection', 'content-length'].includes(k))),
        body: sample.body.length ? sample.body : undefined,
        signal: AbortSignal.timeout(15_000),
      });
      const text = Buffer.from(await res.arrayBuffer());
      if (res.status < 300) stats.replaysAccepted++;
      bump(stats.replayOutcomes, `${res.status} ${reasonOf(text)}`);
    } catch (err) {
      bump(stats.replayOutcomes, `error ${err.name}`);
    }
  };
  const track = (p) => {
    inFlight.add(p);
    p.finally(() => inFlight.delete(p));
  };
  const loadTimer = setInterval(() => track(placeOrder()), 1000 / rate);
  const replayTimer = setInterval(() => track(replay()), 250);

  const faults = [];
  await sleep(durationMs / 3);
  faults.push(`${Math.round((Date.now() - started) / 1000)} s: Redis restarted (SIGTERM, AOF kept)`);
  await redis.stop();
  await sleep(2000);
  redis.start();
  await sleep(durationMs / 3 - 2000);
  const victim = replicas[1];
  faults.push(`${Math.round((Date.now() - started) / 1000)} s: ${victim.name} restarted`);
  victim.up = false;
  await sleep(500); // requests already sent to it finish
  await victim.stop();
  victim.start();
  await waitFor(victim.name, healthy(victim.port));
  victim.up = true;
  await sleep(Math.max(0, started + durationMs - Date.now()));

  clearInterval(loadTimer);
  clearInterval(replayTimer);
  await Promise.all([...inFlight]);
  sampleRss();
  clearInterval(rssTimer);
  const stockAfter = await Promise.all(replicas.map(stockOf));
  proxy.close();
  await Promise.all(processes.map((p) => p.stop()));

  const stockMoved = stockBefore.reduce((sum, before, i) => sum + before - stockAfter[i], 0);
  const placed = stats.orders['200'] ?? 0;
  const undocumented5xx = Object.entries(stats.inventory5xx).filter(([k]) => k !== '503 replay_store_unavailable');
  const sorted = [...stats.latencies].sort((a, b) => a - b);
  const pct = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))].toFixed(1);
  const rows = [
    ['duration', `${minutes} min at ${rate} orders/s; faults: ${faults.join('; ')}`],
    ['orders sent (order-service answers)', JSON.stringify(stats.orders)],
    ['orders placed (200) vs stock moved', `${placed} vs ${stockMoved} (stock ${stockBefore.join('+')} → ${stockAfter.join('+')})`],
    ['replays tried vs accepted', `${stats.replaysTried} vs ${stats.replaysAccepted} ${JSON.stringify(stats.replayOutcomes)}`],
    ['inventory 5xx', JSON.stringify(stats.inventory5xx)],
    ['5xx other than 503 replay_store_unavailable', String(undocumented5xx.reduce((n, [, c]) => n + c, 0))],
    ['order latency p50 / p99 (ms)', `${pct(0.5)} / ${pct(0.99)}`],
  ];
  console.log('| measure | value |\n|---|---|');
  for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
  console.log(`\n| t (s) | ${processes.map((p) => `${p.name} RSS (MB)`).join(' | ')} |\n|---|${processes.map(() => '---').join('|')}|`);
  for (const { atS, mb } of stats.rss) console.log(`| ${atS} | ${mb.map((m) => (Number.isNaN(m) ? '—' : m.toFixed(0))).join(' | ')} |`);
  return placed === stockMoved && stats.replaysAccepted === 0 && undocumented5xx.length === 0;
}

function reasonOf(text) {
  try {
    return JSON.parse(text.toString('utf8')).reason ?? '';
  } catch {
    return '';
  }
}

/** P123's stock on one replica, read with a signed GET (the script holds order-service's credential). */
async function stockOf(replica) {
  const url = `http://${HOST}:${replica.port}/api/inventory/P123`;
  const headers = signRequest(
    { method: 'GET', url, headers: {} },
    { id: credential.id, apiKey: credential.apiKey, hmacKey: keys.hmacKey, audience: 'inventory-service' },
    { nonce: randomBytes(16).toString('base64url') },
  );
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
  const json = await res.json();
  if (res.status !== 200) throw new Error(`stock of ${replica.name}: ${res.status} ${JSON.stringify(json)}`);
  return json.stock;
}

const cleanUp = () => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dataRoot, { recursive: true, force: true });
};
const ok = await main().finally(cleanUp);
process.exit(ok ? 0 : 1);
