// Signed vs plain `send()` round trips over Nest's TCP transport, in one process and one run.
//
//   node bench/messages.bench.mjs [--rounds 9] [--duration 2] [--concurrency 16] [--json]
//   (npm run build first; run.mjs runs it as `--only messages`)
//
// Both callees (bench/src/message-bench-app.ts) listen at once on loopback; each round runs the plain
// pair, then the signed pair (the order alternates between rounds), for `duration` seconds each with
// `concurrency` send()s in flight, and the round's ratio is signed round trips per second over plain.
// The signed side does all the work a caller and a callee do: sign, verify (the memory nonce store),
// sign the answer, open it. Client and server share this process, in both modes alike.

import { performance } from 'node:perf_hooks';
import { ensureBenchAppBuilt } from './http.bench.mjs';
import { flagOption, fmtInt, fmtSpread, freePort, isMain, median, newCredential, numberOption, spreadOf } from './common.mjs';

/** signed round trips per second over plain ones. */
export const MESSAGES_TARGET = 0.8;

const UPDATE = { productId: 'P123', quantity: 2 };

/** Keeps `concurrency` send()s in flight for `ms`; round trips per second. */
async function roundTrips(pair, ms, concurrency) {
  const deadline = performance.now() + ms;
  let done = 0;
  const worker = async () => {
    while (performance.now() < deadline) {
      await pair.send(UPDATE);
      done++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return done / ((performance.now() - started) / 1000);
}

export async function runMessagesBench({ rounds = 9, duration = 2, concurrency = 16 } = {}) {
  ensureBenchAppBuilt({ app: 'message-bench-app' });
  const { startMessageBenchPair } = await import(new URL('./dist/message-bench-app.js', import.meta.url).href);
  const credential = newCredential('order-bench');
  const pairs = {
    plain: await startMessageBenchPair('plain', await freePort(), credential),
    signed: await startMessageBenchPair('signed', await freePort(), credential),
  };
  try {
    for (const mode of ['plain', 'signed']) {
      const answer = await pairs[mode].send(UPDATE);
      if (answer?.stock !== 98) throw new Error(`${mode}: unexpected answer ${JSON.stringify(answer)}`);
      await roundTrips(pairs[mode], 500, concurrency); // warm-up
    }
    const runs = [];
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? ['plain', 'signed'] : ['signed', 'plain'];
      const rps = {};
      for (const mode of order) rps[mode] = await roundTrips(pairs[mode], duration * 1000, concurrency);
      runs.push({ ...rps, ratio: rps.signed / rps.plain });
    }
    const ratios = runs.map((r) => r.ratio);
    return {
      config: { rounds, duration, concurrency },
      runs,
      rps: { plain: median(runs.map((r) => r.plain)), signed: median(runs.map((r) => r.signed)) },
      ratio: spreadOf(ratios),
      target: MESSAGES_TARGET,
    };
  } finally {
    await pairs.plain.close();
    await pairs.signed.close();
  }
}

export function formatMessagesBench(res) {
  const lines = [
    `TCP send() round trips, ${res.config.concurrency} in flight, ${res.config.rounds} rounds of ${res.config.duration} s per mode`,
  ];
  res.runs.forEach((r, i) =>
    lines.push(
      `  round ${String(i + 1).padStart(2)}: plain ${fmtInt(r.plain).padStart(7)}/s  signed ${fmtInt(r.signed).padStart(7)}/s  ${r.ratio.toFixed(2)}x`,
    ),
  );
  lines.push(
    `median: plain ${fmtInt(res.rps.plain)}/s, signed ${fmtInt(res.rps.signed)}/s; signed/plain ${fmtSpread(res.ratio)}; target >= ${res.target}x`,
  );
  return lines.join('\n');
}

if (isMain(import.meta.url)) {
  const res = await runMessagesBench({
    rounds: numberOption('rounds', 9),
    duration: numberOption('duration', 2),
    concurrency: numberOption('concurrency', 16),
  });
  console.log(flagOption('json') ? JSON.stringify(res, null, 2) : formatMessagesBench(res));
}
