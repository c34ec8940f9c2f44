// `npm run bench` (= npm run build && node bench/run.mjs): runs the three benchmarks in one go and
// prints one summary of ratios against their targets.
//
//   node bench/run.mjs [--quick] [--only verify,jwe,http] [--diagnostics] [--out results.json] [--strict]
//   HTTP options as in http.bench.mjs (--rounds, --duration, --connections, --adapters, --cpu-prof, …),
//   --verify-rounds and --jwe-rounds for the micro-benchmarks. Each option can also be set in the
//   environment as BENCH_<NAME> (BENCH_QUICK=1, BENCH_ONLY=http, BENCH_ROUNDS=3, …).
//   With npm: npm run bench -- --quick
//
//   verify  bench/verify.bench.mjs  RequestVerifier.verify vs sha256 + hmac-sha256 with node:crypto
//   jwe     bench/jwe.bench.mjs     encryptCompact/decryptCompact vs raw AES-256-GCM and jose
//   http    bench/http.bench.mjs    req/s of POST /api/inventory, plain vs guarded vs encrypted,
//                                   Express and Fastify, servers in child processes, autocannon
//   --diagnostics adds the 'hooks' mode to the HTTP bench and bench/inject.bench.mjs (in-process cost
//   per request, no sockets), which tell the cost of Nest's guard/interceptor machinery apart.
//
// --quick: a few rounds of short runs (about a minute in all); numbers are indicative only.
// The exit code is 1 when a run went wrong (non-2xx answers, errors); a missed target is reported,
// not failed, unless --strict.

import { writeFileSync } from 'node:fs';
import { formatHttpBench, httpOptionsFromArgs, runHttpBench, HTTP_TARGETS, STRANGER_TARGET } from './http.bench.mjs';
import { formatJweBench, runJweBench } from './jwe.bench.mjs';
import { formatVerifyBench, runVerifyBench } from './verify.bench.mjs';
import { flagOption, numberOption, option } from './common.mjs';

const quick = flagOption('quick');
const only = String(option('only', 'verify,jwe,http')).split(',');
const diagnostics = flagOption('diagnostics');
const section = (title) => console.log(`\n${'='.repeat(100)}\n${title}\n${'='.repeat(100)}`);

const rows = [];
const row = (bench, what, value, target, ok, note = '') => rows.push({ bench, what, value, target, ok, note });
const results = { node: process.version, quick, startedAt: new Date().toISOString() };
let failed = false;

if (only.includes('verify')) {
  section('verify: RequestVerifier.verify vs the raw sha256 + hmac floor');
  const res = await runVerifyBench({ rounds: numberOption('verify-rounds', quick ? 5 : 15), ops: quick ? 1500 : 4000 });
  console.log(formatVerifyBench(res));
  results.verify = res;
  const [lo, hi] = res.costVsFloorRange;
  row('verify', 'verify cost vs floor (floor/verify)', `${res.costVsFloor.toFixed(2)}x`, '<= 2x', res.costVsFloor <= 2, `rounds ${lo.toFixed(2)}-${hi.toFixed(2)}; ${res.usPerOp.verify.toFixed(1)} vs ${res.usPerOp.floor.toFixed(1)} µs`);
}

if (only.includes('jwe')) {
  section('jwe: encryptCompact / decryptCompact vs raw AES-256-GCM and jose');
  const res = await runJweBench({ rounds: numberOption('jwe-rounds', quick ? 5 : 15), ops: quick ? 1000 : 2000 });
  console.log(formatJweBench(res));
  results.jwe = res;
  for (const op of ['encrypt', 'decrypt']) {
    row('jwe', `${op}: cost vs raw AES-GCM (raw/ours)`, `${res.costVsRaw[op].toFixed(2)}x`, '<= 2x', res.costVsRaw[op] <= res.targets.costVsRawMax);
  }
  // Rows the JWE bench may add (a per-message "nonce" header member, as on the response path).
  if (res.nonceCostVsRaw) {
    for (const op of ['encrypt', 'decrypt']) {
      row('jwe', `${op} (nonce/msg): cost vs raw AES-GCM`, `${res.nonceCostVsRaw[op].toFixed(2)}x`, '<= 2x', res.nonceCostVsRaw[op] <= res.targets.costVsRawMax);
    }
  }
  for (const op of ['encrypt', 'decrypt']) {
    row('jwe', `${op}: speedup vs jose (Uint8Array key)`, `${res.speedupVsJose[op].toFixed(2)}x`, '>= 4x', res.speedupVsJose[op] >= res.targets.speedupVsJoseMin);
    row('jwe', `${op}: speedup vs jose (CryptoKey)`, `${res.speedupVsJoseCryptoKey[op].toFixed(2)}x`, '>= 4x', res.speedupVsJoseCryptoKey[op] >= res.targets.speedupVsJoseMin);
  }
}

if (only.includes('http')) {
  section('http: POST /api/inventory req/s, plain vs guarded vs guarded+encrypted (servers in child processes)');
  const options = httpOptionsFromArgs(quick);
  if (diagnostics && !options.modes.includes('hooks')) options.modes = ['plain', 'hooks', ...options.modes.filter((m) => m !== 'plain')];
  const res = await runHttpBench(options);
  console.log(formatHttpBench(res));
  results.http = res;
  for (const adapter of res.config.adapters) {
    for (const mode of ['guarded', 'encrypted']) {
      const r = res.ratios[adapter][mode];
      if (!r) continue;
      const target = HTTP_TARGETS[adapter][mode];
      row(
        'http',
        `${adapter} ${mode}/plain req/s`,
        `${r.rps.median.toFixed(2)}x`,
        `>= ${target}x`,
        r.rps.median >= target,
        `rounds ${r.rps.min.toFixed(2)}-${r.rps.max.toFixed(2)}; CPU-time ratio ${r.cpu.median.toFixed(2)}x; ` +
          `${Math.round(res.modes[adapter][mode].rps)} vs ${Math.round(res.modes[adapter].plain.rps)} req/s`,
      );
    }
  }
  for (const adapter of res.config.adapters) {
    for (const [name, p] of Object.entries(res.pairs?.[adapter] ?? {})) {
      if (p.min === undefined) continue;
      row('http', `${adapter} ${name} req/s`, `${p.rps.median.toFixed(2)}x`, `>= ${p.min}x`, p.rps.median >= p.min, `rounds ${p.rps.min.toFixed(2)}-${p.rps.max.toFixed(2)}; CPU-time ratio ${p.cpu.median.toFixed(2)}x`);
    }
    const st = res.strangers?.[adapter];
    if (st) {
      row(
        'http',
        `${adapter} 64 KiB stranger CPU / plain 1 KiB`,
        `${st.vsPlainCpu.median.toFixed(2)}x`,
        `<= ${STRANGER_TARGET}x`,
        st.vsPlainCpu.median <= STRANGER_TARGET,
        `rounds ${st.vsPlainCpu.min.toFixed(2)}-${st.vsPlainCpu.max.toFixed(2)}; ${st.serverCpuUsPerReq.toFixed(0)} µs per refusal, its log line included`,
      );
      const q = st.withoutLogLine;
      row(
        'http',
        `${adapter}   same, refusal not logged`,
        `${q.vsPlainCpu.median.toFixed(2)}x`,
        `<= ${STRANGER_TARGET}x`,
        q.vsPlainCpu.median <= STRANGER_TARGET,
        `rounds ${q.vsPlainCpu.min.toFixed(2)}-${q.vsPlainCpu.max.toFixed(2)}; ${q.serverCpuUsPerReq.toFixed(0)} µs per refusal`,
      );
    }
  }
  const bad = Object.values(res.modes).flatMap((m) => Object.values(m)).reduce((a, m) => a + m.non2xx + m.errors + m.timeouts, 0);
  row('http', 'non-2xx answers, errors, timeouts', String(bad), '= 0', bad === 0 && res.failures.length === 0);
  if (bad > 0 || res.failures.length > 0) {
    failed = true;
    console.log(res.failures.join('\n'));
  }
}

if (diagnostics) {
  section('diagnostics: in-process server cost per request (no sockets)');
  const { runInjectBench, formatInjectBench } = await import('./inject.bench.mjs');
  const res = await runInjectBench({ rounds: quick ? 3 : 9, ops: quick ? 500 : 2000 });
  console.log(formatInjectBench(res));
  results.inject = res;
  if (res.failures) failed = true;
}

section(`summary (node ${process.version}${quick ? ', QUICK run: indicative only' : ''})`);
const w = [6, 42, 9, 10, 5];
console.log(`${'bench'.padEnd(w[0])} ${'measure'.padEnd(w[1])} ${'measured'.padStart(w[2])} ${'target'.padStart(w[3])} ${'    '.padEnd(w[4])} note`);
for (const r of rows) {
  console.log(`${r.bench.padEnd(w[0])} ${r.what.padEnd(w[1])} ${r.value.padStart(w[2])} ${r.target.padStart(w[3])} ${(r.ok ? 'PASS' : 'MISS').padEnd(w[4])} ${r.note}`);
}
const misses = rows.filter((r) => !r.ok).length;
console.log(`\n${rows.length - misses} PASS, ${misses} MISS${failed ? ', and the run had FAILURES (see above)' : ''}`);

results.summary = rows;
const out = option('out', undefined);
if (typeof out === 'string') {
  writeFileSync(out, JSON.stringify(results, (k, v) => (k === 'runs' || k === 'window' ? undefined : v), 2));
  console.log(`results written to ${out}`);
}
if (failed || (flagOption('strict') && misses > 0)) process.exitCode = 1;
