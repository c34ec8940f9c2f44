// Request verification micro-benchmark: one full RequestVerifier.verify of a signed 1 KiB POST
// against the raw floor of the same work done with node:crypto alone, in one process.
//
//   npm run build
//   node bench/verify.bench.mjs [--rounds 15] [--ops 4000] [--json] [--no-breakdown]
//
// Inputs: a 1 KiB JSON order, POST /api/inventory, signed by signRequest exactly as order-service
// signs (X-API-Key, Content-Type, Content-Digest, Signature-Input, Signature; covered: @method @path
// @query x-api-key content-type content-digest), a fresh nonce for every request. All requests are
// signed before any timing (the verifier refuses a nonce it has seen, so each is verified once).
//
// Contenders, timed over the same pre-signed requests:
//   verify  RequestVerifier.verify(message, body, { isTrusted }): API key lookup, Signature-Input/Signature
//           parsing (RFC 8941), coverage, key, time window, signature base, HMAC, Content-Digest, trust
//           policy, nonce claimed in a MemoryNonceStore (one store for the whole run, like a server).
//           The message is the library's httpMessage() view, built before timing (the guard's
//           requestMessage() is the same kind of O(1) view over Node's header object).
//   floor   sha256(body) + hmac-sha256(signature base) with node:crypto: the two hashes any correct
//           verification must compute, and nothing else (no parsing, no comparison, no bookkeeping).
// And, for comparison, what else one could use for the same 1 KiB request (rows of their own, no target):
//   http-message-signatures  httpbis.verifyMessage of the same RFC 9421 headers (HMAC key looked up,
//           required components and parameters, maxAge), then the body's sha-256 against
//           Content-Digest, which that package leaves to its user; no nonce bookkeeping.
//   hawk    @hapi/hawk server.authenticate of a Hawk-signed request with the same body: its MAC, payload
//           hash, timestamp, and a nonceFunc remembering nonces in a Set (its replay protection).
//   aws4    aws4.sign of the same request (SigV4): the work a SigV4 server repeats to check one (body hash,
//           canonical request, derived signing key, HMAC), without the compare.
// Method: warm up, then K rounds; in each round the contenders take turns every 250 requests over the
// same N pre-signed requests (who goes first alternating), so that a neighbour's burst of load hits both
// alike. Times are CPU time of this process (process.cpuUsage), not the clock. Each reports its median
// ops/s over rounds; the ratio is the median of per-round ratios, shown with their spread.
//
// Breakdown (unless --no-breakdown): each step of verify timed alone, on the same inputs, with the
// library's own functions, and a sampling profile of full verifications (self time by package and
// function), so that a missed target comes with the step that dominates.

import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createRequire } from 'node:module';
import {
  BODY_BYTES,
  disagreement,
  flagOption,
  fmtInt,
  fmtSpread,
  importLib,
  isMain,
  median,
  newCredential,
  numberOption,
  orderBody,
  spreadOf,
} from './common.mjs';

const URL_STRING = 'http://127.0.0.1:8082/api/inventory';

let sink = 0;

/**
 * This process's CPU time in ms: on a shared machine the clock also counts the time spent waiting for a
 * core, which lands on whichever contender happens to be running (rounds of the ratio then ranged from
 * 0.7x to 3x in one run).
 */
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

async function timeAsync(fn, items) {
  const t0 = cpuMs();
  for (let i = 0; i < items.length; i++) sink ^= (await fn(items[i])) ? 1 : 0;
  return (items.length * 1000) / Math.max(cpuMs() - t0, 1e-3);
}

function timeSync(fn, items) {
  const t0 = cpuMs();
  for (let i = 0; i < items.length; i++) sink ^= fn(items[i]) ? 1 : 0;
  return (items.length * 1000) / Math.max(cpuMs() - t0, 1e-3);
}

/**
 * Runs the benchmark; returns
 * { rounds, ops, bodyBytes, node, opsPerSec: { verify, floor }, usPerOp: { verify, floor },
 *   costVsFloor (floor ops/s ÷ verify ops/s, median of per-round ratios; target ≤ 2), breakdown? }
 */
export async function runVerifyBench({ rounds = 15, ops = 4000, warmupOps = 4000, breakdown = true } = {}) {
  // The core entry, plus two internals for the breakdown (not exported by the package).
  const lib = {
    ...(await importLib()),
    ...(await importLib('protocol/signature-fields.js')),
    ...(await importLib('protocol/signature-base.js')),
  };
  const { KeyRing, MemoryNonceStore, RequestVerifier, deriveKeys, httpMessage, parseSignatureFields, buildSignatureBase, signRequest } =
    lib;

  const credential = newCredential('order-bench-1');
  const ring = KeyRing.from({ callers: [{ id: 'order-service', keys: [credential] }] }, 'inventory-service');
  const { hmacKey } = deriveKeys(Buffer.from(credential.secret, 'base64url'));
  const signing = { id: credential.id, apiKey: credential.apiKey, hmacKey, audience: 'inventory-service' };
  // One store for the run, as in a server; room for every nonce the run signs.
  const store = new MemoryNonceStore({ maxNoncesPerCaller: 10_000_000 });
  const verifier = new RequestVerifier(() => ring, store, { audience: 'inventory-service' });
  const trusted = ['order-service'];
  const isTrusted = (id) => trusted.includes(id); // what the guard passes for @TrustedCaller('order-service')
  const body = orderBody(BODY_BYTES);
  const url = new URL(URL_STRING);

  /** n requests signed now, each with its own nonce, plus what the floor and the breakdown need. */
  function presign(n) {
    const out = new Array(n);
    for (let i = 0; i < n; i++) {
      const headers = { 'content-type': 'application/json', 'content-length': String(body.length), host: url.host };
      Object.assign(headers, signRequest({ method: 'POST', url, headers, body }, signing));
      const message = httpMessage({ method: 'POST', target: url.pathname, headers });
      const [parsed] = parseSignatureFields(headers['signature-input'], headers.signature);
      const base = buildSignatureBase(message, parsed.components, parsed.signatureParams);
      out[i] = { message, body, headers, parsed, base, hawk: others.hawkRequest(), aws4: others.aws4Request() };
    }
    return out;
  }

  const others = otherSchemes({ hmacKey, body, url, secret: credential.secret });
  const contenders = {
    verify: (r) => verifier.verify(r.message, r.body, { isTrusted }),
    floor: (r) => createHash('sha256').update(r.body).digest()[0] ^ createHmac('sha256', hmacKey).update(r.base, 'utf8').digest()[0],
    'http-message-signatures': (r) => others.httpMessageSignatures(r),
    hawk: (r) => others.hawk(r),
    aws4: (r) => others.aws4(r),
  };
  const run = {
    verify: (reqs) => timeAsync(contenders.verify, reqs),
    floor: (reqs) => timeSync(contenders.floor, reqs),
    'http-message-signatures': (reqs) => timeAsync(contenders['http-message-signatures'], reqs),
    hawk: (reqs) => timeAsync(contenders.hawk, reqs),
    aws4: (reqs) => timeSync(contenders.aws4, reqs),
  };

  // Sanity: the verifier accepts a fresh request, refuses its replay, and the floor's HMAC is the signature;
  // the other schemes accept what they are given.
  {
    const [r] = presign(1);
    for (const name of ['http-message-signatures', 'hawk', 'aws4']) {
      if (!(await contenders[name](r))) throw new Error(`${name}: the request was not accepted`);
    }
    const { caller } = await verifier.verify(r.message, r.body, { isTrusted });
    if (caller.id !== 'order-service') throw new Error('verify: wrong caller');
    let replayRefused = false;
    await verifier.verify(r.message, r.body, { isTrusted }).catch((e) => (replayRefused = e.reason === 'nonce_replayed'));
    if (!replayRefused) throw new Error('verify: a replay was not refused');
    if (!createHmac('sha256', hmacKey).update(r.base, 'utf8').digest().equals(r.parsed.signature))
      throw new Error('floor: HMAC differs from the signature');
  }

  // Warm-up (JIT) on requests of their own.
  for (const name of Object.keys(run)) await run[name](presign(warmupOps));

  // Within a round the contenders alternate every CHUNK requests (who goes first alternating too), and
  // each one's time is summed over its chunks: a burst of load from a neighbour lands on both alike,
  // which keeps the per-round ratio far steadier than one long run each on a shared machine.
  const CHUNK = 250;
  const names = Object.keys(contenders);
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    const reqs = presign(ops);
    const ms = Object.fromEntries(names.map((n) => [n, 0]));
    for (let c = 0, k = r; c < reqs.length; c += CHUNK, k++) {
      const slice = reqs.slice(c, c + CHUNK);
      for (let j = 0; j < names.length; j++) {
        const name = names[(j + k) % names.length];
        ms[name] += (slice.length * 1000) / (await run[name](slice));
      }
    }
    for (const n of names) samples[n].push((ops * 1000) / ms[n]);
  }
  const opsPerSec = Object.fromEntries(names.map((n) => [n, median(samples[n])]));
  const usPerOp = Object.fromEntries(names.map((n) => [n, 1e6 / opsPerSec[n]]));
  const perRound = samples.verify.map((v, i) => samples.floor[i] / v);
  // Each scheme's cost in floors, and how many of ours it costs (paired per round).
  const comparisons = Object.fromEntries(
    names
      .filter((n) => n !== 'verify' && n !== 'floor')
      .map((n) => [
        n,
        {
          vsFloor: median(samples[n].map((v, i) => samples.floor[i] / v)),
          vsVerify: median(samples[n].map((v, i) => samples.verify[i] / v)),
        },
      ]),
  );

  const res = {
    rounds,
    ops,
    bodyBytes: BODY_BYTES,
    node: process.version,
    opsPerSec,
    usPerOp,
    costVsFloor: median(perRound),
    costVsFloorRange: [Math.min(...perRound), Math.max(...perRound)],
    costVsFloorSpread: spreadOf(perRound),
    comparisons,
    targets: { costVsFloorMax: 2 },
  };
  if (breakdown) {
    res.breakdown = await runBreakdown({ lib, ring, hmacKey, presign, rounds, ops, usVerify: usPerOp.verify });
    res.profile = await profileVerify({ verify: contenders.verify, presign, ops });
  }
  res.sink = sink;
  return res;
}

/**
 * The other ways to authenticate the same 1 KiB POST (see the header): each returns a truthy value when
 * it accepts the request. Hawk and aws4 requests are made by presign (a Hawk header with its own nonce).
 */
function otherSchemes({ hmacKey, body, url, secret }) {
  const require = createRequire(import.meta.url);
  const { httpbis } = require('http-message-signatures');
  const Hawk = require('@hapi/hawk');
  const aws4 = require('aws4');
  const hmsKey = {
    id: 'order-bench-1',
    algs: ['hmac-sha256'],
    verify: async (data, signature) => {
      const expected = createHmac('sha256', hmacKey).update(data).digest();
      return signature.length === expected.length && timingSafeEqual(expected, signature);
    },
  };
  const hmsConfig = {
    keyLookup: async (params) => (params.keyid === hmsKey.id ? hmsKey : null),
    requiredFields: ['@method', '@path', '@query', 'x-api-key', 'content-type', 'content-digest'],
    requiredParams: ['created', 'nonce', 'keyid', 'alg', 'tag'],
    maxAge: 300,
    tolerance: 5,
  };
  const payload = body.toString('utf8');
  const hawkCredentials = { id: 'order-service', key: hmacKey.toString('base64'), algorithm: 'sha256' };
  const hawkNonces = new Set();
  const hawkOptions = {
    payload,
    nonceFunc: async (_key, nonce) => {
      if (hawkNonces.has(nonce)) throw new Error('nonce replayed');
      hawkNonces.add(nonce);
    },
  };
  const awsCredentials = { accessKeyId: 'AKIDORDERSERVICE', secretAccessKey: secret };
  return {
    async httpMessageSignatures(r) {
      if (!(await httpbis.verifyMessage(hmsConfig, { method: 'POST', url: url.href, headers: r.headers }))) return false;
      return r.headers['content-digest'] === `sha-256=:${createHash('sha256').update(r.body).digest('base64')}:`;
    },
    hawkRequest() {
      // Hawk's own nonce is 6 random characters: over the ~70 000 requests of a run two of them
      // collide now and then, and the replay check then ends the bench. 16 random bytes do not.
      const { header } = Hawk.client.header(url.href, 'POST', {
        credentials: hawkCredentials,
        payload,
        contentType: 'application/json',
        nonce: randomBytes(16).toString('base64url'),
      });
      return { method: 'POST', url: url.pathname, headers: { host: url.host, authorization: header, 'content-type': 'application/json' } };
    },
    async hawk(r) {
      const { credentials } = await Hawk.server.authenticate(
        r.hawk,
        (id) => (id === hawkCredentials.id ? hawkCredentials : undefined),
        hawkOptions,
      );
      return credentials.id === hawkCredentials.id;
    },
    aws4Request() {
      return {
        host: url.host,
        path: url.pathname,
        method: 'POST',
        service: 'execute-api',
        region: 'eu-west-1',
        body,
        headers: { 'content-type': 'application/json' },
      };
    },
    aws4(r) {
      return aws4.sign({ ...r.aws4, headers: { ...r.aws4.headers } }, awsCredentials).headers.Authorization.length > 0;
    },
  };
}

/**
 * Full verifications under V8's sampling profiler (started after the requests are signed, so only
 * verify runs while it samples): self time by package and by function, as shares of busy time. Unlike
 * the step timings, this sees each step where it really runs, inside a full verify.
 */
async function profileVerify({ verify, presign, ops }) {
  const { Session } = await import('node:inspector/promises');
  const { summarise } = await import('./profile-summary.mjs');
  const batches = Array.from({ length: 8 }, () => presign(ops));
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
    await session.post('Profiler.start');
    const monoUs = () => Number(process.hrtime.bigint() / 1000n); // the profile's clock
    const from = monoUs();
    for (const batch of batches) await timeAsync(verify, batch);
    const to = monoUs();
    const { profile } = await session.post('Profiler.stop');
    const s = summarise(profile, [[from, to]]); // without the profiler's own start and stop
    const busy = s.totalUs - (s.packages.find(([p]) => p === '(idle)')?.[1] ?? 0);
    const share = (rows, n) =>
      rows
        .filter(([k]) => !k.startsWith('(idle)'))
        .slice(0, n)
        .map(([k, us]) => ({ name: k, share: us / busy }));
    return { packages: share(s.packages, 8), functions: share(s.functions, 15) };
  } finally {
    session.disconnect();
  }
}

/**
 * Each step of RequestVerifier.verify, in its order, timed alone with the library's own code on the
 * same kind of inputs. The steps overlap little, so their sum is close to a full verify; what is left
 * (coverage check, small checks, async call, result object) shows up as "rest".
 */
async function runBreakdown({ lib, ring, hmacKey, presign, rounds, ops, usVerify }) {
  const { parseSignatureFields, buildSignatureBase, verifyContentDigest, MemoryNonceStore } = lib;
  const { verifyHmacSha256 } = await importLib('protocol/hmac-sha256.js');
  const { checkReplayWindow } = await importLib('replay/replay-window.js');
  const { isSupportedComponent } = await importLib('protocol/signature-base.js');
  const store = new MemoryNonceStore({ maxNoncesPerCaller: 10_000_000 });
  let nonceSeq = 0;

  const steps = {
    'API key lookup (KeyRing.findByApiKey: one sha256)': (r) => ring.findByApiKey(r.message.header('x-api-key')),
    'Signature-Input + Signature parsing (RFC 8941)': (r) =>
      parseSignatureFields(r.message.header('signature-input'), r.message.header('signature')),
    'coverage check (isSupportedComponent per component)': (r) => r.parsed.components.every(isSupportedComponent),
    'key lookup + replay window': (r) =>
      ring.findCallerKey('order-service', r.parsed.params.keyid) && checkReplayWindow(r.parsed.params, Date.now()),
    'signature base (buildSignatureBase)': (r) => buildSignatureBase(r.message, r.parsed.components, r.parsed.signatureParams),
    'HMAC-SHA256 + compare (verifyHmacSha256)': (r) => verifyHmacSha256(hmacKey, r.base, r.parsed.signature),
    'Content-Digest (parse + sha256 + compare)': (r) => (verifyContentDigest(r.message.header('content-digest'), r.body), true),
    'nonce claim (MemoryNonceStore, awaited)': async (r) =>
      store.claim(
        { callerId: 'order-service', keyId: 'order-bench-1', nonce: `${r.parsed.params.nonce}:${nonceSeq++}` },
        Date.now() + 300_000,
      ),
    '  for comparison: structured-headers parseDictionary(Signature-Input)': null,
    'floor: sha256(1 KiB body)': (r) => createHash('sha256').update(r.body).digest()[0] >= 0,
    'floor: hmac-sha256(signature base)': (r) => createHmac('sha256', hmacKey).update(r.base, 'utf8').digest()[0] >= 0,
  };
  const { parseDictionary } = await import('structured-headers');
  steps['  for comparison: structured-headers parseDictionary(Signature-Input)'] = (r) =>
    parseDictionary(r.message.header('signature-input')).size;

  const names = Object.keys(steps);
  const isAsync = (name) => name.startsWith('nonce');
  const timeStep = (name, reqs) => (isAsync(name) ? timeAsync(steps[name], reqs) : timeSync(steps[name], reqs));
  const reqsWarm = presign(Math.min(ops, 2000));
  for (const name of names) await timeStep(name, reqsWarm);
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  const reqs = presign(ops);
  for (let r = 0; r < Math.max(5, Math.ceil(rounds / 2)); r++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + r) % names.length];
      samples[name].push(await timeStep(name, reqs));
    }
  }
  const rows = names.map((name) => ({ step: name, usPerOp: 1e6 / median(samples[name]) }));
  const verifySteps = rows.filter((r) => !r.step.startsWith('floor') && !r.step.startsWith('  '));
  const sum = verifySteps.reduce((a, r) => a + r.usPerOp, 0);
  return { rows, usVerify, sumOfSteps: sum, rest: usVerify - sum };
}

export function formatVerifyBench(res) {
  const lines = [];
  lines.push(`Request verification, signed ${res.bodyBytes}-byte JSON POST, ${res.rounds} rounds x ${res.ops} ops, node ${res.node}`);
  lines.push('');
  lines.push('contender                             ops/s      µs/op   x floor   x ours');
  const label = {
    verify: 'RequestVerifier.verify',
    floor: 'floor: sha256 + hmac',
    'http-message-signatures': 'http-message-signatures + digest',
    hawk: '@hapi/hawk authenticate',
    aws4: 'aws4 sign (SigV4)',
  };
  for (const name of Object.keys(label).filter((n) => res.opsPerSec[n] !== undefined)) {
    const c = res.comparisons?.[name];
    const ratios =
      name === 'verify'
        ? `${res.costVsFloor.toFixed(2).padStart(9)}  ${'1.00'.padStart(7)}`
        : c
          ? `${c.vsFloor.toFixed(2).padStart(9)}  ${c.vsVerify.toFixed(2).padStart(7)}`
          : '';
    lines.push(
      `${label[name].padEnd(34)} ${fmtInt(res.opsPerSec[name]).padStart(8)} ${res.usPerOp[name].toFixed(2).padStart(10)} ${ratios}`,
    );
  }
  lines.push('(x floor: cost in floors; x ours: cost in RequestVerifier.verify, medians of per-round ratios)');
  lines.push('');
  lines.push(
    `cost vs floor (floor/verify, CPU time, target <= ${res.targets.costVsFloorMax}x): ${fmtSpread(res.costVsFloorSpread)}  ` +
      `${res.costVsFloor <= res.targets.costVsFloorMax ? 'PASS' : 'MISS'}`,
  );
  const why = disagreement(res.costVsFloorSpread, { target: res.targets.costVsFloorMax });
  if (why) lines.push(`UNSTABLE: rounds disagree (${why})`);
  if (res.breakdown) {
    const b = res.breakdown;
    lines.push('');
    lines.push('breakdown (each step alone, median µs/op)                 µs/op   % of verify');
    for (const row of b.rows) {
      lines.push(
        `${row.step.padEnd(56)} ${row.usPerOp.toFixed(2).padStart(6)}   ${((100 * row.usPerOp) / b.usVerify).toFixed(0).padStart(4)}%`,
      );
    }
    lines.push(
      `${'sum of verify steps'.padEnd(56)} ${b.sumOfSteps.toFixed(2).padStart(6)}   ${((100 * b.sumOfSteps) / b.usVerify).toFixed(0).padStart(4)}%`,
    );
    lines.push(
      `${'unaccounted (full verify - sum)'.padEnd(56)} ${b.rest.toFixed(2).padStart(6)}   ${((100 * b.rest) / b.usVerify).toFixed(0).padStart(4)}%`,
    );
    lines.push('  (a step timed alone in a tight loop runs hotter than inside a full verify; the rest is');
    lines.push('   the async call, the coverage and small checks, the result object, and GC)');
  }
  if (res.profile) {
    lines.push('');
    lines.push('where a full verify spends its time (sampling profiler, self time, % of busy time)');
    lines.push(`  by package:  ${res.profile.packages.map((p) => `${p.name} ${(100 * p.share).toFixed(0)}%`).join(', ')}`);
    lines.push('  top functions:');
    for (const f of res.profile.functions) lines.push(`    ${(100 * f.share).toFixed(1).padStart(5)}%  ${f.name}`);
  }
  return lines.join('\n');
}

async function main() {
  const quick = flagOption('quick');
  const res = await runVerifyBench({
    rounds: numberOption('rounds', quick ? 5 : 15),
    ops: numberOption('ops', quick ? 1500 : 4000),
    breakdown: !flagOption('no-breakdown'),
  });
  if (flagOption('json')) console.log(JSON.stringify(res, null, 2));
  else console.log(formatVerifyBench(res));
}

if (isMain(import.meta.url)) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
