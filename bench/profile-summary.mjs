// Summarises V8 .cpuprofile files (node --cpu-prof): self time per function and per package, so that
// "where does the time go" has a short answer.
//
//   node bench/profile-summary.mjs <file.cpuprofile|dir> [--top 30] [--filter substring]
//
// Self time is attributed to the function on top of the stack; "(garbage collector)", "(program)"
// and "(idle)" are V8's own buckets, "(native)" gathers functions without a script (crypto bindings,
// writev, RegExp, microtasks). Packages are taken from the path (node_modules/<pkg>, the library's
// dist, node: internals).
// Caveat: V8 samples on wall-clock time. On a busy machine a process that is descheduled has the
// wait charged to whatever it was running (often writev, which wakes the peer process), so absolute
// µs here run higher than process.cpuUsage(); compare profiles taken side by side, not in isolation.
// http.bench.mjs --cpu-prof uses compareProfiles() on the servers' measured runs only.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isMain, numberOption, option } from './common.mjs';

export function packageOf(url) {
  if (!url) return '(native)'; // builtins and bindings: crypto, writev, RegExp, microtasks
  if (url.startsWith('node:')) return url.split('/')[0];
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    const pkg = rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
    return pkg;
  }
  if (url.includes('/libs/service-auth/')) return 'nest-service-auth';
  if (url.includes('/bench/')) return 'bench';
  return url.replace(/^file:\/\//, '');
}

/**
 * Self time per function and per package. `windows` ([startUs, endUs] pairs on the profile's clock,
 * CLOCK_MONOTONIC µs) keeps only the samples taken inside them, e.g. the measured runs of a server.
 */
export function summarise(profile, windows) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const dt = profile.timeDeltas;
  let t = profile.startTime;
  // Sorted by start, so that a sample's window is found by bisection (the in-process bench has thousands).
  const sorted = windows && [...windows].sort((x, y) => x[0] - y[0]);
  const inWindow = (time) => {
    let lo = 0;
    let hi = sorted.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid][0] <= time) lo = mid + 1;
      else hi = mid - 1;
    }
    return hi >= 0 && time <= sorted[hi][1];
  };
  for (let i = 0; i < profile.samples.length; i++) {
    t += dt[i] ?? 0;
    // A sample's delta is the time since the previous one: attribute it to this sample's stack.
    if (sorted && !inWindow(t)) continue;
    self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (dt[i] ?? 0));
  }
  const fns = new Map();
  const pkgs = new Map();
  let total = 0;
  for (const [id, us] of self) {
    const { callFrame } = byId.get(id);
    const name = callFrame.functionName || '(anonymous)';
    const file = callFrame.url ? callFrame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(libs|bench|apps)\//, '$1/') : '';
    const key = `${name} ${file}${callFrame.url ? `:${callFrame.lineNumber + 1}` : ''}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
    const pkg = ['(idle)', '(program)', '(garbage collector)'].includes(name) ? name : packageOf(callFrame.url);
    pkgs.set(pkg, (pkgs.get(pkg) ?? 0) + us);
    total += us;
  }
  const sort = (m) => [...m].sort((a, b) => b[1] - a[1]);
  return { totalUs: total, functions: sort(fns), packages: sort(pkgs) };
}

function load(path) {
  if (statSync(path).isDirectory()) {
    return readdirSync(path)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => join(path, f));
  }
  return [path];
}

const IDLE = '(idle)';

/**
 * Side by side, in µs of busy CPU per request: the packages and functions whose cost differs most
 * between profiles (e.g. the plain, guarded and encrypted servers of one adapter).
 * entries: [{ label, file, windows, requests }]
 */
export function compareProfiles(entries, { top = 25 } = {}) {
  const sums = entries.map((e) => ({ ...e, s: summarise(JSON.parse(readFileSync(e.file, 'utf8')), e.windows) }));
  const lines = [];
  const col = (x) => x.toFixed(1).padStart(10);
  const header = (title) => `${title.padEnd(64)}${sums.map((e) => e.label.padStart(10)).join('')}${'  Δ last-first'.padStart(14)}`;
  const table = (title, pick, n) => {
    const keys = new Set();
    const maps = sums.map(
      (e) =>
        new Map(
          pick(e.s)
            .filter(([k]) => k !== IDLE && !k.startsWith(`${IDLE} `))
            .map(([k, us]) => [k, us / e.requests]),
        ),
    );
    for (const m of maps) for (const k of m.keys()) keys.add(k);
    const rows = [...keys].map((k) => ({ k, v: maps.map((m) => m.get(k) ?? 0) }));
    rows.sort((a, b) => Math.abs(b.v[b.v.length - 1] - b.v[0]) - Math.abs(a.v[a.v.length - 1] - a.v[0]));
    lines.push(header(title));
    const total = maps.map((m) => [...m.values()].reduce((a, b) => a + b, 0));
    lines.push(`${'busy CPU, total'.padEnd(64)}${total.map(col).join('')}${col(total[total.length - 1] - total[0])}    `);
    for (const { k, v } of rows.slice(0, n)) {
      lines.push(`${k.slice(0, 63).padEnd(64)}${v.map(col).join('')}${col(v[v.length - 1] - v[0])}`);
    }
    lines.push('');
  };
  lines.push(`requests in the profiled windows: ${sums.map((e) => `${e.label} ${e.requests}`).join(', ')}`);
  lines.push('');
  table('by package, self µs per request', (s) => s.packages, 20);
  table('by function, self µs per request (largest differences)', (s) => s.functions, top);
  return lines.join('\n');
}

/** Prints the summary of one profile, or of every .cpuprofile in a directory. */
export function printProfiles(target, { top = 30, filter } = {}) {
  for (const file of load(target)) {
    const s = summarise(JSON.parse(readFileSync(file, 'utf8')));
    const busy = s.totalUs - (s.packages.find(([p]) => p === '(idle)')?.[1] ?? 0);
    const pct = (us) => `${((100 * us) / busy).toFixed(1).padStart(5)}%`;
    console.log(`\n${file}: ${(s.totalUs / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy (percentages are of busy time)`);
    console.log('\nby package (self time)');
    for (const [p, us] of s.packages.filter(([p]) => p !== '(idle)').slice(0, 20)) console.log(`  ${pct(us)}  ${p}`);
    console.log(`\nby function (self time, top ${top})`);
    for (const [f, us] of s.functions.filter(([f]) => !f.startsWith('(idle)') && (!filter || f.includes(filter))).slice(0, top))
      console.log(`  ${pct(us)}  ${f}`);
  }
}

function main() {
  const target = process.argv[2];
  if (!target) {
    console.error('usage: node bench/profile-summary.mjs <file.cpuprofile|dir> [--top 30] [--filter s]');
    process.exit(2);
  }
  printProfiles(target, { top: numberOption('top', 30), filter: option('filter', undefined) });
}

if (isMain(import.meta.url)) main();
