// Signed vs plain `send()` round trips over Nest's TCP transport.
//
//   node bench/messages.bench.mjs [--rounds 9] [--duration 2] [--concurrency 16] [--work 100] [--json]
//   (npm run build first; run.mjs runs it as `--only messages`)
//
// Two rows, each with the client in this process and the callee (bench/src/message-bench-app.ts) in
// a process of its own, as in production:
//   no-op     the handler answers at once: the worst case, where the round trip is all transport
//   work      the handler busies itself `--work` µs (a query, a cache round trip) before it answers
// Both callees of a row (plain and signed) listen at once; each round runs the two modes one after
// the other (the order alternates between rounds), for `duration` seconds each with `concurrency`
// send()s in flight, and the round's ratio is signed round trips per second over plain. The median
// and the interquartile range of the rounds' ratios are reported, and the CPU each side spends per
// round trip (process.cpuUsage of the client's and of the callee's process over the measured runs):
// what signing costs where.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { ensureBenchAppBuilt } from './http.bench.mjs';
import { flagOption, fmtInt, fmtSpread, freePort, isMain, median, newCredential, numberOption, spreadOf } from './common.mjs';

/** signed round trips per second over plain ones. */
export const MESSAGES_TARGET = 0.8;

const UPDATE = { productId: 'P123', quantity: 2 };
const MODES = ['plain', 'signed'];

/** Keeps `concurrency` send()s in flight for `ms`; round trips per second and how many were made. */
async function roundTrips(client, ms, concurrency) {
  const deadline = performance.now() + ms;
  let done = 0;
  const worker = async () => {
    while (performance.now() < deadline) {
      await client.send(UPDATE);
      done++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { rps: done / ((performance.now() - started) / 1000), done };
}

/** The callee of `mode` in a child process; resolves once it listens. */
async function startCalleeProcess(mode, port, credential, workMicros) {
  const child = fork(fileURLToPath(new URL('message-bench-callee.mjs', import.meta.url)), [mode, String(port), String(workMicros)], {
    env: { ...process.env, BENCH_CREDENTIAL: JSON.stringify(credential) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [first] = await Promise.race([once(child, 'message'), once(child, 'exit').then(() => [{ exited: true }])]);
  if (!first?.ready) throw new Error(`${mode} callee did not start`);
  return {
    async cpuMicros() {
      const reply = once(child, 'message');
      child.send({ cpu: true });
      const [{ cpu }] = await reply;
      return cpu.user + cpu.system;
    },
    async stop() {
      child.send({ stop: true });
      await Promise.race([once(child, 'exit'), new Promise((resolve) => setTimeout(resolve, 3000).unref())]);
      if (child.exitCode === null) child.kill();
    },
  };
}

const ownCpuMicros = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

/** One row: both modes against their callee processes, `rounds` alternating rounds. */
async function runRow({ rounds, duration, concurrency, workMicros }) {
  const { startMessageBenchClient } = await import(new URL('./dist/message-bench-app.js', import.meta.url).href);
  const credential = newCredential('order-bench');
  const sides = {};
  try {
    for (const mode of MODES) {
      const port = await freePort();
      const callee = await startCalleeProcess(mode, port, credential, workMicros);
      sides[mode] = { callee, client: await startMessageBenchClient(mode, port, credential), cpu: { client: 0, callee: 0, calls: 0 } };
    }
    for (const mode of MODES) {
      const answer = await sides[mode].client.send(UPDATE);
      if (answer?.stock !== 98) throw new Error(`${mode}: unexpected answer ${JSON.stringify(answer)}`);
      await roundTrips(sides[mode].client, 1000, concurrency); // warm-up (JIT on both sides)
    }
    const runs = [];
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? MODES : [...MODES].reverse();
      const rps = {};
      for (const mode of order) {
        const side = sides[mode];
        const [client0, callee0] = [ownCpuMicros(), await side.callee.cpuMicros()];
        const run = await roundTrips(side.client, duration * 1000, concurrency);
        side.cpu.client += ownCpuMicros() - client0;
        side.cpu.callee += (await side.callee.cpuMicros()) - callee0;
        side.cpu.calls += run.done;
        rps[mode] = run.rps;
      }
      runs.push({ ...rps, ratio: rps.signed / rps.plain });
    }
    const cpuPerCall = Object.fromEntries(
      MODES.map((mode) => {
        const { client, callee, calls } = sides[mode].cpu;
        return [mode, { client: client / calls, callee: callee / calls }];
      }),
    );
    return {
      workMicros,
      runs,
      rps: { plain: median(runs.map((r) => r.plain)), signed: median(runs.map((r) => r.signed)) },
      ratio: spreadOf(runs.map((r) => r.ratio)),
      cpuPerCall,
    };
  } finally {
    for (const side of Object.values(sides)) {
      await side.client.close();
      await side.callee.stop();
    }
  }
}

export async function runMessagesBench({ rounds = 9, duration = 2, concurrency = 16, work = 100 } = {}) {
  ensureBenchAppBuilt({ app: 'message-bench-app' });
  const rows = [];
  for (const workMicros of [0, work]) rows.push(await runRow({ rounds, duration, concurrency, workMicros }));
  return { config: { rounds, duration, concurrency, work }, rows, target: MESSAGES_TARGET };
}

export function formatMessagesBench(res) {
  const { rounds, duration, concurrency } = res.config;
  const lines = [
    `TCP send() round trips, client and callee in separate processes, ${concurrency} in flight, ${rounds} rounds of ${duration} s per mode`,
  ];
  for (const row of res.rows) {
    lines.push(row.workMicros === 0 ? 'no-op handler:' : `handler busy ${row.workMicros} µs per message:`);
    row.runs.forEach((r, i) =>
      lines.push(
        `  round ${String(i + 1).padStart(2)}: plain ${fmtInt(r.plain).padStart(7)}/s  signed ${fmtInt(r.signed).padStart(7)}/s  ${r.ratio.toFixed(2)}x`,
      ),
    );
    const cpu = (mode) => `client ${row.cpuPerCall[mode].client.toFixed(1)} µs + callee ${row.cpuPerCall[mode].callee.toFixed(1)} µs`;
    lines.push(`  CPU per round trip: plain ${cpu('plain')}; signed ${cpu('signed')}`);
    lines.push(
      `  median: plain ${fmtInt(row.rps.plain)}/s, signed ${fmtInt(row.rps.signed)}/s; signed/plain ${fmtSpread(row.ratio)}; target >= ${res.target}x`,
    );
  }
  return lines.join('\n');
}

if (isMain(import.meta.url)) {
  const res = await runMessagesBench({
    rounds: numberOption('rounds', 9),
    duration: numberOption('duration', 2),
    concurrency: numberOption('concurrency', 16),
    work: numberOption('work', 100),
  });
  console.log(flagOption('json') ? JSON.stringify(res, null, 2) : formatMessagesBench(res));
}
