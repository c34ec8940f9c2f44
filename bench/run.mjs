// `npm run bench` (= npm run build && node bench/run.mjs): runs the three benchmarks in one go and
// prints one summary of ratios against their targets.
//
//   node bench/run.mjs [--quick] [--only verify,jwe,http,inject,ed25519,memory,rss,messages] [--diagnostics] [--out results.json] [--strict]
//   HTTP options as in http.bench.mjs (--rounds, --duration, --connections, --adapters, --cpu-prof,
//   --baseline /other/checkout for its guarded server next to this one's, …),
//   --verify-rounds and --jwe-rounds for the micro-benchmarks. Each option can also be set in the
//   environment as BENCH_<NAME> (BENCH_QUICK=1, BENCH_ONLY=http, BENCH_ROUNDS=3, …).
//   With npm: npm run bench -- --quick
//
//   verify  bench/verify.bench.mjs  RequestVerifier.verify vs sha256 + hmac-sha256 with node:crypto
//   jwe     bench/jwe.bench.mjs     encryptCompact/decryptCompact vs raw AES-256-GCM and jose
//   http    bench/http.bench.mjs    req/s of POST /api/inventory, plain vs guarded vs encrypted,
//                                   Express and Fastify, servers in child processes, autocannon
//   inject  bench/inject.bench.mjs  in-process server cost per request of each mode (CPU time), with the
//                                   crypto floor and RequestVerifier.verify timed in the same rounds
//   ed25519 bench/ed25519.bench.mjs  RequestVerifier.verify of an ed25519 request vs a bare crypto.verify
//                                   of its base; in-process, ed25519 vs hmac-sha256 callers and signed vs
//                                   unsigned answers, Express and Fastify
//   memory  bench/nonce-memory.bench.mjs  bytes per nonce in MemoryNonceStore (1 000 000 nonces)
//   rss     bench/demo-rss.bench.mjs  the demo services' RSS at rest, under 60 s of signed load and after
//   messages bench/messages.bench.mjs  signed vs plain send() round trips over Nest's TCP transport
//   --diagnostics adds the 'hooks' mode to the HTTP and in-process benches, which tells the cost of
//   Nest's guard/interceptor machinery apart.
//
// --quick: a few rounds of short runs (about a minute in all); numbers are indicative only.
// The exit code is 1 when a run went wrong (non-2xx answers, errors); a missed target is reported,
// not failed, unless --strict.

import { writeFileSync } from 'node:fs';
import { formatHttpBench, httpOptionsFromArgs, runHttpBench, HTTP_TARGETS, STRANGER_TARGET } from './http.bench.mjs';
import { formatJweBench, runJweBench } from './jwe.bench.mjs';
import { formatVerifyBench, runVerifyBench } from './verify.bench.mjs';
import { disagreement, flagOption, numberOption, option } from './common.mjs';

const quick = flagOption('quick');
const only = String(option('only', 'verify,jwe,http,inject,ed25519,memory,rss,messages')).split(',');
const diagnostics = flagOption('diagnostics');
const section = (title) => console.log(`\n${'='.repeat(100)}\n${title}\n${'='.repeat(100)}`);

const rows = [];
/**
 * One summary line. `spread` (spreadOf of the per-round values the verdict is the median of) adds its
 * interquartile range to the note and marks the line UNSTABLE when the rounds disagree (see disagreement).
 */
const row = (bench, what, value, target, ok, note = '', spread, targetValue) => {
  const unstable = spread ? disagreement(spread, { target: targetValue }) : undefined;
  const iqr = spread ? `IQR ${spread.q1.toFixed(2)}-${spread.q3.toFixed(2)}, range ${spread.min.toFixed(2)}-${spread.max.toFixed(2)}` : '';
  rows.push({ bench, what, value, target, ok, note: [iqr, note].filter(Boolean).join('; '), unstable });
};
const results = { node: process.version, quick, startedAt: new Date().toISOString() };
let failed = false;

if (only.includes('verify')) {
  section('verify: RequestVerifier.verify vs the raw sha256 + hmac floor');
  const res = await runVerifyBench({ rounds: numberOption('verify-rounds', quick ? 5 : 15), ops: quick ? 1500 : 4000 });
  console.log(formatVerifyBench(res));
  results.verify = res;
  row(
    'verify',
    'verify cost vs floor (floor/verify)',
    `${res.costVsFloor.toFixed(2)}x`,
    '<= 2x',
    res.costVsFloor <= 2,
    `${res.usPerOp.verify.toFixed(1)} vs ${res.usPerOp.floor.toFixed(1)} µs (CPU time)`,
    res.costVsFloorSpread,
    2,
  );
}

if (only.includes('jwe')) {
  section('jwe: encryptCompact / decryptCompact vs raw AES-256-GCM and jose');
  const res = await runJweBench({ rounds: numberOption('jwe-rounds', quick ? 5 : 15), ops: quick ? 1000 : 2000 });
  console.log(formatJweBench(res));
  results.jwe = res;
  for (const op of ['encrypt', 'decrypt']) {
    row(
      'jwe',
      `${op}: cost vs raw AES-GCM (raw/ours)`,
      `${res.costVsRaw[op].toFixed(2)}x`,
      '<= 2x',
      res.costVsRaw[op] <= res.targets.costVsRawMax,
    );
  }
  // Rows the JWE bench may add (a per-message "nonce" header member, as on the response path).
  if (res.nonceCostVsRaw) {
    for (const op of ['encrypt', 'decrypt']) {
      row(
        'jwe',
        `${op} (nonce/msg): cost vs raw AES-GCM`,
        `${res.nonceCostVsRaw[op].toFixed(2)}x`,
        '<= 2x',
        res.nonceCostVsRaw[op] <= res.targets.costVsRawMax,
      );
    }
  }
  for (const op of ['encrypt', 'decrypt']) {
    row(
      'jwe',
      `${op}: speedup vs jose (Uint8Array key)`,
      `${res.speedupVsJose[op].toFixed(2)}x`,
      '>= 4x',
      res.speedupVsJose[op] >= res.targets.speedupVsJoseMin,
    );
    row(
      'jwe',
      `${op}: speedup vs jose (CryptoKey)`,
      `${res.speedupVsJoseCryptoKey[op].toFixed(2)}x`,
      '>= 4x',
      res.speedupVsJoseCryptoKey[op] >= res.targets.speedupVsJoseMin,
    );
  }
}

if (only.includes('http')) {
  section('http: POST /api/inventory req/s, plain vs guarded vs guarded+encrypted (servers in child processes)');
  const options = httpOptionsFromArgs(quick);
  // The targets are ratios of saturated servers: a fixed offered load (--rate) is for http.bench.mjs alone.
  if (options.rate) throw new Error('--rate is a diagnostic of bench/http.bench.mjs; npm run bench judges saturated runs');
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
        `CPU-time ratio ${r.cpu.median.toFixed(2)}x; ${Math.round(res.modes[adapter][mode].rps)} vs ${Math.round(res.modes[adapter].plain.rps)} req/s`,
        r.rps,
        target,
      );
    }
  }
  for (const adapter of res.config.adapters) {
    for (const [name, p] of Object.entries(res.pairs?.[adapter] ?? {})) {
      // Unjudged pairs are left to the HTTP table, except the change against the --baseline build.
      if (p.min === undefined && !name.includes('@before')) continue;
      // Judged on server CPU time: the claim is about what each guard costs the server, and a server
      // that shares two cores with its load generator is not always the bottleneck (ELU < 1), so its
      // req/s also measure the load generator's share.
      const [a, b] = name.split('/');
      row(
        'http',
        `${adapter} ${name} CPU time`,
        `${p.cpu.median.toFixed(2)}x`,
        p.min === undefined ? '(shown)' : `>= ${p.min}x`,
        p.min === undefined || p.cpu.median >= p.min,
        `req/s ratio ${p.rps.median.toFixed(2)}x; server µs/req ${b} ${res.modes[adapter][b].serverCpuUsPerReq.toFixed(0)}, ${a} ${res.modes[adapter][a].serverCpuUsPerReq.toFixed(0)}`,
        p.cpu,
        p.min,
      );
    }
    const st = res.strangers?.[adapter];
    if (st) {
      row(
        'http',
        `${adapter} 64 KiB stranger CPU / plain 1 KiB`,
        `${st.vsPlainCpu.median.toFixed(2)}x`,
        `<= ${STRANGER_TARGET}x`,
        st.vsPlainCpu.median <= STRANGER_TARGET,
        `${st.serverCpuUsPerReq.toFixed(0)} µs per refusal, logged as by default (10 lines/s per reason, the rest counted)`,
        st.vsPlainCpu,
        STRANGER_TARGET,
      );
      const q = st.withoutLogLine;
      row(
        'http',
        `${adapter}   same, no refusal logged`,
        `${q.vsPlainCpu.median.toFixed(2)}x`,
        `<= ${STRANGER_TARGET}x`,
        q.vsPlainCpu.median <= STRANGER_TARGET,
        `${q.serverCpuUsPerReq.toFixed(0)} µs per refusal`,
        q.vsPlainCpu,
        STRANGER_TARGET,
      );
    }
  }
  const bad = Object.values(res.modes)
    .flatMap((m) => Object.values(m))
    .reduce((a, m) => a + m.non2xx + m.errors + m.timeouts, 0);
  row('http', 'non-2xx answers, errors, timeouts', String(bad), '= 0', bad === 0 && res.failures.length === 0);
  if (bad > 0 || res.failures.length > 0) {
    failed = true;
    console.log(res.failures.join('\n'));
  }
}

if (only.includes('inject')) {
  section('inject: in-process server cost per request (no sockets), against the crypto floor measured in the same rounds');
  const { runInjectBench, formatInjectBench } = await import('./inject.bench.mjs');
  const modes = diagnostics
    ? ['plain', 'hooks', 'apikey', 'passport', 'guarded', 'encrypted']
    : ['plain', 'apikey', 'passport', 'guarded', 'encrypted'];
  const res = await runInjectBench({ rounds: numberOption('inject-rounds', quick ? 3 : 15), ops: quick ? 500 : 2000, modes });
  console.log(formatInjectBench(res));
  results.inject = res;
  if (res.failures) failed = true;
  const sm = res.summary;
  row(
    'inject',
    'verify cost vs floor, in-process',
    `${sm.verifyVsFloor.toFixed(2)}x`,
    '<= 2x',
    sm.verifyVsFloor <= 2,
    `${sm.verifyUs.toFixed(1)} vs ${sm.floorUs.toFixed(1)} µs (CPU time)`,
    sm.verifyVsFloorSpread,
    2,
  );
  for (const adapter of Object.keys(res.result)) {
    const a = sm[adapter];
    if (a?.vsFloorSpread) {
      row(
        'inject',
        `${adapter} (guarded - apikey) vs floor`,
        `${a.vsFloor.toFixed(2)}x`,
        '<= 3x',
        a.vsFloor <= 3,
        `${a.guardedOverApikeyUs.toFixed(1)} µs over the API-key guard`,
        a.vsFloorSpread,
        3,
      );
    }
    if (a?.vsPassport) {
      row(
        'inject',
        `${adapter} guarded/passport CPU time`,
        `${a.vsPassport.median.toFixed(2)}x`,
        '(shown)',
        true,
        `guarded ${a.guardedOverPassportUs >= 0 ? '+' : ''}${a.guardedOverPassportUs.toFixed(1)} µs per request; the HTTP target, without sockets`,
        a.vsPassport,
        1,
      );
    }
  }
}

if (only.includes('ed25519')) {
  section('ed25519: verify vs a bare crypto.verify; in-process, ed25519 vs hmac-sha256 callers, signed vs unsigned answers');
  const { runEd25519Bench, formatEd25519Bench, TARGETS } = await import('./ed25519.bench.mjs');
  const res = await runEd25519Bench({
    rounds: numberOption('ed25519-rounds', quick ? 3 : 15),
    ops: quick ? 500 : 2000,
    verifyOps: quick ? 1000 : 2000,
  });
  console.log(formatEd25519Bench(res));
  results.ed25519 = res;
  if (res.inject.failures) failed = true;
  const v = res.verify;
  row(
    'ed25519',
    'verify cost vs bare crypto.verify',
    `${v.verifyVsFloor.median.toFixed(2)}x`,
    `<= ${TARGETS.verifyVsFloorMax}x`,
    v.verifyVsFloor.median <= TARGETS.verifyVsFloorMax,
    `${v.usPerOp.verify.toFixed(1)} vs ${v.usPerOp.floor.toFixed(1)} µs (CPU time)`,
    v.verifyVsFloor,
    TARGETS.verifyVsFloorMax,
  );
  for (const [adapter, a] of Object.entries(res.inject.result)) {
    const us = a.usPerReq;
    row(
      'ed25519',
      `${adapter} guarded ed25519/hmac, in-process`,
      `${a.ed25519VsHmac.median.toFixed(2)}x`,
      '(shown)',
      true,
      `requests per CPU-second; ${us['ed25519 guarded'].toFixed(0)} vs ${us['hmac-sha256 guarded'].toFixed(0)} µs per request`,
      a.ed25519VsHmac,
    );
    for (const [algorithm, s] of Object.entries(a.signedVsUnsigned)) {
      const judged = algorithm === 'hmac-sha256';
      row(
        'ed25519',
        `${adapter} ${algorithm} signed/unsigned answers`,
        `${s.median.toFixed(2)}x`,
        judged ? `>= ${TARGETS.signedVsUnsignedMin}x` : '(shown)',
        !judged || s.median >= TARGETS.signedVsUnsignedMin,
        `in-process; ${us[`${algorithm} guarded`].toFixed(0)} vs ${us[`${algorithm} unsigned`].toFixed(0)} µs per request`,
        s,
        judged ? TARGETS.signedVsUnsignedMin : undefined,
      );
    }
  }
}

if (only.includes('memory')) {
  section('memory: bytes per nonce remembered by MemoryNonceStore (1 000 000 nonces)');
  const { execFileSync } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const script = fileURLToPath(new URL('./nonce-memory.bench.mjs', import.meta.url));
  const nonces = quick ? 200_000 : 1_000_000;
  const runs = [1, 10].map((callers) =>
    JSON.parse(
      execFileSync(process.execPath, ['--expose-gc', script, '--json', '--nonces', String(nonces), '--callers', String(callers)], {
        encoding: 'utf8',
      }),
    ),
  );
  for (const r of runs)
    console.log(
      `${r.nonces.toLocaleString('en')} nonces from ${r.callers} caller(s): ${(r.bytes / 2 ** 20).toFixed(1)} MiB, ${r.bytesPerNonce.toFixed(1)} bytes/nonce`,
    );
  results.memory = runs;
  for (const r of runs)
    row(
      'memory',
      `bytes per nonce, ${r.callers} caller(s)`,
      r.bytesPerNonce.toFixed(1),
      '<= 150',
      r.bytesPerNonce <= 150,
      `${r.nonces.toLocaleString('en')} nonces`,
    );
}

if (only.includes('rss')) {
  section('rss: the demo services at rest, under signed load and after it');
  const { runDemoRssBench, formatDemoRssBench } = await import('./demo-rss.bench.mjs');
  const res = await runDemoRssBench({ duration: quick ? 15 : 60, settleSeconds: quick ? 10 : 30 });
  console.log(formatDemoRssBench(res));
  results.rss = res;
  for (const name of ['inventory', 'order']) {
    const before = res.retainedAtRest[name].heapUsedMiB + res.retainedAtRest[name].externalMiB;
    const after = res.retainedAfterLoad[name].heapUsedMiB + res.retainedAfterLoad[name].externalMiB;
    row(
      'rss',
      `${name}-service kept per order (after full GC)`,
      `${(((after - before) * 2 ** 20) / res.orders.total).toFixed(0)} B`,
      '(shown)',
      true,
      `RSS ${res.atRest[`${name}MiB`].toFixed(0)} MiB at rest, ${res.afterLoad[`${name}MiB`].toFixed(0)} MiB after ${res.duration} s of ${res.orders.perSecond.toFixed(0)} orders/s`,
    );
  }
}

if (only.includes('messages')) {
  section('messages: signed vs plain send() round trips over TCP (client and callee in separate processes)');
  const { runMessagesBench, formatMessagesBench } = await import('./messages.bench.mjs');
  const res = await runMessagesBench({ rounds: quick ? 3 : 9, duration: quick ? 1 : 2 });
  console.log(formatMessagesBench(res));
  results.messages = res;
  for (const r of res.rows) {
    row(
      'msg',
      `TCP signed/plain send()/s, ${r.workMicros === 0 ? 'no-op handler' : `${r.workMicros} µs handler`}`,
      `${r.ratio.median.toFixed(2)}x`,
      `>= ${res.target}x`,
      r.ratio.median >= res.target,
      `IQR ${r.ratio.q1.toFixed(2)}-${r.ratio.q3.toFixed(2)}; ${Math.round(r.rps.signed)} vs ${Math.round(r.rps.plain)} /s`,
    );
  }
}

section(`summary (node ${process.version}${quick ? ', QUICK run: indicative only' : ''})`);
const w = [6, 42, 9, 10, 5];
console.log(
  `${'bench'.padEnd(w[0])} ${'measure'.padEnd(w[1])} ${'measured'.padStart(w[2])} ${'target'.padStart(w[3])} ${'    '.padEnd(w[4])} note`,
);
for (const r of rows) {
  console.log(
    `${r.bench.padEnd(w[0])} ${r.what.padEnd(w[1])} ${r.value.padStart(w[2])} ${r.target.padStart(w[3])} ${(r.ok ? 'PASS' : 'MISS').padEnd(w[4])} ${r.note}`,
  );
}
const misses = rows.filter((r) => !r.ok).length;
const unstable = rows.filter((r) => r.unstable);
console.log(`\n${rows.length - misses} PASS, ${misses} MISS${failed ? ', and the run had FAILURES (see above)' : ''}`);
// A verdict whose rounds disagree is the machine's as much as the code's: run again, or compare
// builds side by side (bench/ab-inject.mjs), before reading anything into it.
for (const r of unstable) console.log(`UNSTABLE: rounds disagree on ${r.bench} ${r.what.trim()} (${r.unstable})`);
for (const u of (results.http?.unstable ?? []).filter((x) => x.what.endsWith('server µs/req')))
  console.log(`UNSTABLE: the ${u.what} moved between rounds (${u.why})`);

results.summary = rows;
const out = option('out', undefined);
if (typeof out === 'string') {
  writeFileSync(
    out,
    JSON.stringify(results, (k, v) => (k === 'runs' || k === 'window' ? undefined : v), 2),
  );
  console.log(`results written to ${out}`);
}
if (failed || (flagOption('strict') && misses > 0)) process.exitCode = 1;
