// A/B of the in-process server cost (see inject.bench.mjs) between two builds of the repository, in
// ONE process, their requests interleaved in small chunks, so that a neighbour's load lands on both
// alike. Each build's bench app imports its own nest-service-auth (its node_modules link); Nest itself
// is shared.
//
//   npm run build                      (in both checkouts)
//   node bench/ab-inject.mjs --a /path/to/other/checkout [--b .] [--rounds 15] [--ops 2000] [--chunk 250]
//                            [--adapters express,fastify] [--modes apikey,guarded]
//
// Prints, per adapter and mode, each build's median µs/request (CPU time) and the median of the
// per-round paired differences (B - A) with their range.

import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execFileSync } from 'node:child_process';
import { BODY_BYTES, flagOption, importLib, median, newCredential, numberOption, option, orderBody } from './common.mjs';
import { injectableApp } from './inject.bench.mjs';

const cpuUs = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};
const PATH = '/api/inventory';

const roots = { A: resolve(String(option('a', '.'))), B: resolve(String(option('b', '.'))) };
const rounds = numberOption('rounds', 15);
const ops = numberOption('ops', 2000);
const chunk = numberOption('chunk', 250);
const adapters = String(option('adapters', 'express,fastify')).split(',');
const modes = String(option('modes', 'apikey,guarded')).split(',');

for (const root of Object.values(roots)) {
  execFileSync(process.execPath, ['-e', "import('./bench/http.bench.mjs').then((m) => m.ensureBenchAppBuilt())"], {
    cwd: root,
    stdio: 'inherit',
  });
}

const lib = await importLib();
const credential = newCredential('order-bench-1');
const keys = lib.deriveKeys(Buffer.from(credential.secret, 'base64url'));
const signing = { id: credential.id, apiKey: credential.apiKey, hmacKey: keys.hmacKey, audience: 'inventory-service' };
const order = orderBody(BODY_BYTES);
const url = new URL(`http://localhost${PATH}`);
const flat = (headers) =>
  Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, Buffer.from(value, 'latin1').toString('latin1')]));
const make = () => {
  const headers = { 'content-type': 'application/json' };
  Object.assign(
    headers,
    lib.signRequest({ method: 'POST', url, headers, body: order }, signing, { nonce: randomBytes(16).toString('base64url') }),
  );
  return { method: 'POST', url: PATH, headers: flat(headers), payload: order };
};

const targets = [];
const apps = [];
for (const [build, root] of Object.entries(roots)) {
  const { createBenchApp } = await import(pathToFileURL(`${root}/bench/dist/bench-app.js`).href);
  for (const adapter of adapters) {
    for (const mode of modes) {
      const { app, dispatch } = await injectableApp(createBenchApp, { mode, adapter, credential });
      apps.push(app);
      targets.push({ build, adapter, mode, dispatch, samples: [] });
    }
  }
}

let failures = 0;
const monoUs = () => Number(process.hrtime.bigint() / 1000n); // the clock of V8 profile samples
const windows = [];
const run = async (t, reqs) => {
  const m0 = monoUs();
  const c0 = cpuUs();
  for (const r of reqs) if ((await t.dispatch(r)).statusCode !== 200) failures++;
  const us = (cpuUs() - c0) / reqs.length;
  windows.push([m0, monoUs()]);
  return us;
};
for (const t of targets) await run(t, Array.from({ length: 3000 }, make));
failures = 0;
windows.length = 0;
// --profile: a sampling profile of the timed requests, from which each build's own library code is
// summed (self time, plus the Node internals and native calls it makes, such as hashing): far less noisy than the
// request's CPU time for changes of a microsecond or less.
let session;
if (flagOption('profile')) {
  const { Session } = await import('node:inspector/promises');
  session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 50 });
  await session.post('Profiler.start');
}
// One sample per target per cycle (a chunk of requests each, in rotating order): paired differences
// are taken between samples of the same cycle.
for (let r = 0; r < rounds; r++) {
  for (let c = 0, k = r; c < ops; c += chunk, k++) {
    const reqs = new Map(targets.map((t) => [t, Array.from({ length: Math.min(chunk, ops - c) }, make)]));
    for (let j = 0; j < targets.length; j++) {
      const t = targets[(j + k) % targets.length];
      t.samples.push(await run(t, reqs.get(t)));
    }
  }
}
let libUs;
if (session) {
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  libUs = libraryTime(profile);
}
for (const app of apps) await app.close();

/** Mean of the middle 60%: robust to the GC pauses and neighbours' bursts that land on single chunks. */
const trimmed = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  const cut = Math.floor(s.length * 0.2);
  const mid = s.slice(cut, s.length - cut);
  return mid.reduce((x, y) => x + y, 0) / mid.length;
};
const find = (build, adapter, mode) => targets.find((t) => t.build === build && t.adapter === adapter && t.mode === mode);
console.log(
  `A = ${roots.A}\nB = ${roots.B}\n${rounds} rounds x ${ops} requests (chunks of ${chunk}: medians over ${targets[0].samples.length} chunks), node ${process.version}\n`,
);
console.log('adapter  mode          A µs     B µs    B-A paired: median, trimmed mean (range)');
for (const adapter of adapters) {
  for (const mode of modes) {
    const a = find('A', adapter, mode).samples;
    const b = find('B', adapter, mode).samples;
    const d = b.map((v, i) => v - a[i]);
    console.log(
      `${adapter.padEnd(8)} ${mode.padEnd(10)} ${median(a).toFixed(1).padStart(7)}  ${median(b).toFixed(1).padStart(7)}   ` +
        `${median(d) >= 0 ? '+' : ''}${median(d).toFixed(2)}, ${trimmed(d) >= 0 ? '+' : ''}${trimmed(d).toFixed(2)} (${Math.min(...d).toFixed(1)} to ${Math.max(...d).toFixed(1)})`,
    );
  }
  if (modes.includes('apikey') && modes.includes('guarded')) {
    const over = (build) => find(build, adapter, 'guarded').samples.map((g, i) => g - find(build, adapter, 'apikey').samples[i]);
    const oa = over('A');
    const ob = over('B');
    console.log(
      `${adapter.padEnd(8)} guarded-apikey  A ${median(oa).toFixed(1)} µs  B ${median(ob).toFixed(1)} µs  paired B-A ${median(ob.map((v, i) => v - oa[i])).toFixed(2)} µs, trimmed mean ${trimmed(ob.map((v, i) => v - oa[i])).toFixed(2)} µs`,
    );
  }
}
console.log(failures ? `NON-200 ANSWERS: ${failures}` : 'non-200 answers: 0');

if (libUs) {
  const requests = rounds * ops * modes.length * adapters.length;
  console.log(
    `\nlibrary code (self time + the Node internals and native calls it makes), µs per request over all modes and adapters (sampling profile):`,
  );
  for (const [build, root] of Object.entries(roots)) console.log(`  ${build}: ${(libUs[root] / requests).toFixed(2)} µs`);
  if (flagOption('functions')) {
    const names = [...new Set(Object.values(libUs.byFunction).flatMap((m) => [...m.keys()]))];
    const rows = names
      .map((n) => [n, ...Object.values(roots).map((r) => (libUs.byFunction[r].get(n) ?? 0) / requests)])
      .sort((x, y) => y[2] - x[2]);
    console.log(`\n${'function (self + Node/native callees)'.padEnd(70)}      A      B`);
    for (const [n, a, b] of rows.slice(0, 40))
      console.log(`${n.slice(0, 70).padEnd(70)} ${a.toFixed(2).padStart(6)} ${b.toFixed(2).padStart(6)}`);
  }
}

/** Sampled µs per build root: samples whose nearest frame with a script is in that root's library. */
function libraryTime(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const owner = new Map();
  // [root, function] of the nearest frame with a script outside Node's own (node: internals such as
  // crypto.hash count for the library code that called them), when that script is a build's library.
  const ownerOf = (id) => {
    if (owner.has(id)) return owner.get(id);
    const { callFrame } = byId.get(id);
    let result;
    if (callFrame.url && !callFrame.url.startsWith('node:')) {
      const path = callFrame.url.replace(/^file:\/\//, '');
      const root = Object.values(roots).find((r) => path.startsWith(`${r}/libs/service-auth/`));
      if (root)
        result = [
          root,
          `${callFrame.functionName || '(anonymous)'} ${path.slice(root.length + '/libs/service-auth/dist/esm/'.length)}:${callFrame.lineNumber + 1}`,
        ];
    } else if (!['(garbage collector)', '(program)', '(idle)', '(root)'].includes(callFrame.functionName) && parent.has(id)) {
      result = ownerOf(parent.get(id));
    }
    owner.set(id, result);
    return result;
  };
  const byFunction = Object.fromEntries(Object.values(roots).map((r) => [r, new Map()]));
  const totals = Object.fromEntries(Object.values(roots).map((r) => [r, 0]));
  // Only samples inside the timed runs (requests are signed, by one of the builds, between them).
  let t = profile.startTime;
  let w = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    while (w < windows.length && windows[w][1] < t) w++;
    if (w === windows.length || t < windows[w][0]) continue;
    const found = ownerOf(profile.samples[i]);
    if (!found) continue;
    const [root, fn] = found;
    totals[root] += profile.timeDeltas[i] ?? 0;
    byFunction[root].set(fn, (byFunction[root].get(fn) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  return { ...totals, byFunction };
}
