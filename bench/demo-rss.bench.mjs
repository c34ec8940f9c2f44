// Resident memory of the two demo services: at rest, then every few seconds of signed load, and after it.
//
//   npm run build
//   node bench/demo-rss.bench.mjs [--duration 60] [--connections 10] [--sample 5] [--settle 30] [--json]
//
// Both services run from dist/ in child processes, as `npm run demo` runs them: inventory-service trusts
// order-service, order-service calls it through SignedHttpService, encrypted both ways (the demo's
// setting). The load is customers' orders to order-service (`POST /api/orders`, autocannon in this
// process): each one is a signed, encrypted call from order-service to inventory-service, verified there
// and its nonce remembered. RSS is read from /proc/<pid>/status (VmRSS) of each service.
//
// What is expected to grow, by design, and is reported beside the samples:
// - the inventory's nonces: every verified request's nonce is kept for the replay window (300 s + 6 s),
//   about 93 bytes each (bench/nonce-memory.bench.mjs), so during a 60 s run they only accumulate;
// - the inventory's stock store keeps the outcome of every order under its idempotency key (a few hundred
//   bytes each; the stock itself runs out after 100 units, later orders are answered 409, and recorded).
// The demo keeps its stock in memory here (INVENTORY_STOCK_STORE=memory): PGlite's own memory would
// hide the library's. Orders are not rate limited (RATE_LIMIT_PER_MINUTE is set out of reach).

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { flagOption, isMain, numberOption } from './common.mjs';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const HOST = '127.0.0.1';

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const credential = (id) => ({ id, apiKey: `sk_${randomBytes(32).toString('base64url')}`, secret: randomBytes(32).toString('base64url') });
const keyList = (c) => `${c.id}:${c.apiKey}:${c.secret}`;

/** VmRSS of a process, in MiB. */
function rssMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]);
  return kb / 1024;
}

// Loaded into each service (--import): on SIGWINCH (which Nest's shutdown hooks leave alone), two full collections, then process.memoryUsage() as one
// JSON line on stderr. What is left after a full collection is what the service keeps; RSS alone also
// counts garbage not yet collected and pages V8 has not handed back.
const MEMORY_PROBE = `data:text/javascript,process.on('SIGWINCH',()=>{globalThis.gc();globalThis.gc();process.stderr.write('MEMORY '+JSON.stringify(process.memoryUsage())+'\\n')})`;

function startService(name, entry, env) {
  const child = spawn(process.execPath, ['--expose-gc', '--import', MEMORY_PROBE, entry], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const waiting = [];
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-8000);
    for (const match of String(d).matchAll(/^MEMORY (.*)$/gm)) waiting.shift()?.(JSON.parse(match[1]));
  });
  return {
    name,
    child,
    stderr: () => stderr,
    /** Heap used and external memory after two full collections, in MiB. */
    retained: () =>
      new Promise((resolve) => {
        waiting.push((m) => resolve({ heapUsedMiB: m.heapUsed / 2 ** 20, externalMiB: m.external / 2 ** 20, rssMiB: m.rss / 2 ** 20 }));
        child.kill('SIGWINCH');
      }),
  };
}

async function waitHealthy(url, service) {
  for (let i = 0; i < 300; i++) {
    if (service.child.exitCode !== null) throw new Error(`${service.name} exited: ${service.stderr()}`);
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${service.name} did not become healthy: ${service.stderr()}`);
}

export async function runDemoRssBench({
  duration = 60,
  connections = 10,
  sampleSeconds = 5,
  settleSeconds = 30,
  log = (l) => console.error(l),
} = {}) {
  for (const app of ['inventory-service', 'order-service']) {
    if (!existsSync(`${ROOT}dist/apps/${app}/main.js`)) throw new Error(`dist/apps/${app}/main.js is missing: npm run build first`);
  }
  const orderKey = credential('order-rss');
  const [inventoryPort, orderPort] = [await freePort(), await freePort()];
  const inventoryUrl = `http://${HOST}:${inventoryPort}`;
  const orderUrl = `http://${HOST}:${orderPort}`;
  const inventory = startService('inventory-service', 'dist/apps/inventory-service/main.js', {
    PORT: String(inventoryPort),
    HOST,
    SERVICE_AUTH_CALLERS: 'order-service',
    SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS: keyList(orderKey),
    ENCRYPTION_POLICY: 'required',
    INVENTORY_STOCK_STORE: 'memory',
    RATE_LIMIT_PER_MINUTE: String(1e9),
  });
  const order = startService('order-service', 'dist/apps/order-service/main.js', {
    PORT: String(orderPort),
    HOST,
    SERVICE_AUTH_UPSTREAMS: 'inventory-service',
    SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_URL: inventoryUrl,
    SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_KEYS: keyList(orderKey),
  });
  const services = [inventory, order];
  try {
    await Promise.all([waitHealthy(inventoryUrl, inventory), waitHealthy(orderUrl, order)]);
    const body = JSON.stringify({ productId: 'P123', quantity: 1 });
    const first = await fetch(`${orderUrl}/api/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    if (first.status !== 200) throw new Error(`the first order was answered ${first.status}: ${await first.text()}`);
    // At rest: started, one order through, then a few seconds of nothing.
    await new Promise((r) => setTimeout(r, 3000));
    const retainedAtRest = { inventory: await inventory.retained(), order: await order.retained() };
    const sample = (t) => ({ t, inventoryMiB: rssMiB(inventory.child.pid), orderMiB: rssMiB(order.child.pid) });
    const samples = [sample(0)];
    log(
      `demo-rss: at rest inventory ${samples[0].inventoryMiB.toFixed(1)} MiB, order ${samples[0].orderMiB.toFixed(1)} MiB; ${duration} s of orders…`,
    );
    const started = Date.now();
    const timer = setInterval(() => {
      const s = sample(Math.round((Date.now() - started) / 1000));
      samples.push(s);
      log(`demo-rss: ${String(s.t).padStart(3)} s  inventory ${s.inventoryMiB.toFixed(1)} MiB  order ${s.orderMiB.toFixed(1)} MiB`);
    }, sampleSeconds * 1000);
    const result = await autocannon({
      url: orderUrl,
      connections,
      duration,
      requests: [{ method: 'POST', path: '/api/orders', headers: { 'content-type': 'application/json' }, body }],
    });
    clearInterval(timer);
    samples.push(sample(duration));
    // Then at rest again: V8 gives back what the load's garbage took once allocation stops (its memory
    // reducer runs after some seconds of quiet), so what stays is what the services keep.
    for (let t = sampleSeconds; t <= settleSeconds; t += sampleSeconds) {
      await new Promise((r) => setTimeout(r, sampleSeconds * 1000));
      samples.push(sample(duration + t));
    }
    const after = samples.at(-1);
    const retainedAfterLoad = { inventory: await inventory.retained(), order: await order.retained() };
    const verified = result['2xx'] + result.non2xx; // every order reached the inventory and was verified there
    return {
      duration,
      connections,
      settleSeconds,
      orders: {
        total: verified,
        ok: result['2xx'],
        refused: result.non2xx,
        statusCodes: result.statusCodeStats,
        errors: result.errors,
        timeouts: result.timeouts,
        perSecond: verified / result.duration,
      },
      samples,
      atRest: samples[0],
      afterLoad: after,
      retainedAtRest,
      retainedAfterLoad,
      // what the replay window keeps by design, at the measured bytes per nonce
      expectedNonceMiB: (verified * 93) / 2 ** 20,
    };
  } finally {
    for (const s of services) if (s.child.exitCode === null) s.child.kill('SIGTERM');
    await Promise.all(services.map((s) => (s.child.exitCode !== null ? undefined : new Promise((r) => s.child.once('exit', r)))));
  }
}

export function formatDemoRssBench(res) {
  const lines = [
    `Demo services' RSS, ${res.duration} s of orders (${res.connections} connections), signed and encrypted order -> inventory`,
    '',
  ];
  lines.push('  t (s)   inventory MiB   order MiB');
  for (const s of res.samples) {
    const phase = s.t === 0 ? 'at rest' : s.t <= res.duration ? 'load' : 'at rest after the load';
    lines.push(`${String(s.t).padStart(7)}   ${s.inventoryMiB.toFixed(1).padStart(13)}   ${s.orderMiB.toFixed(1).padStart(9)}   ${phase}`);
  }
  const o = res.orders;
  lines.push('');
  lines.push(
    `orders: ${o.total} (${o.perSecond.toFixed(0)}/s), ${o.ok} answered 2xx, ${o.refused} other (the stock runs out after 100 units) ${JSON.stringify(o.statusCodes)}; errors ${o.errors}, timeouts ${o.timeouts}`,
  );
  lines.push(
    `growth: inventory ${(res.afterLoad.inventoryMiB - res.atRest.inventoryMiB).toFixed(1)} MiB (its nonce store keeps about ${res.expectedNonceMiB.toFixed(1)} MiB of nonces for the replay window, ` +
      `and its stock store one outcome per order), order ${(res.afterLoad.orderMiB - res.atRest.orderMiB).toFixed(1)} MiB`,
  );
  const r0 = res.retainedAtRest;
  const r1 = res.retainedAfterLoad;
  lines.push('');
  lines.push('after two full collections (heap used + external, MiB)   at rest   after the load   difference   per order');
  for (const name of ['inventory', 'order']) {
    const before = r0[name].heapUsedMiB + r0[name].externalMiB;
    const afterGc = r1[name].heapUsedMiB + r1[name].externalMiB;
    lines.push(
      `${`${name}-service`.padEnd(56)} ${before.toFixed(1).padStart(7)}   ${afterGc.toFixed(1).padStart(14)}   ${(afterGc - before).toFixed(1).padStart(10)}   ` +
        `${(((afterGc - before) * 2 ** 20) / res.orders.total).toFixed(0).padStart(6)} B`,
    );
  }
  return lines.join('\n');
}

if (isMain(import.meta.url)) {
  const res = await runDemoRssBench({
    duration: numberOption('duration', 60),
    connections: numberOption('connections', 10),
    sampleSeconds: numberOption('sample', 5),
    settleSeconds: numberOption('settle', 30),
  });
  console.log(flagOption('json') ? JSON.stringify(res, null, 2) : formatDemoRssBench(res));
}
