// Instructions per request, counted by valgrind (callgrind), for each mode of the in-process bench
// and for the floor and RequestVerifier.verify: a measure a busy neighbour cannot move. CPU time on a
// shared machine moves by tens of percent between rounds (see docs/benchmarks.md, "Why runs
// disagreed"); an instruction count of the same work moves by well under one percent between runs.
// Instructions are not time (a cache miss costs no instruction, SHA-256 runs in a few wide ones), so
// read differences between modes, not absolute costs.
//
//   npm run build
//   node bench/instructions.bench.mjs [--ops 500] [--warmup 1500] [--adapters express,fastify]
//                                     [--modes plain,apikey,passport,guarded] [--json]
//   (needs valgrind; about 2-4 minutes per adapter)
//
// Method: one node process per adapter runs under callgrind with --single-threaded (compilation and
// garbage collection on the main thread, where they are counted, in an order that does not depend on
// timing). It builds every mode's app, signs every request beforehand, warms each app up, then runs
// `ops` requests per mode in chunks of 50, modes taking turns, each chunk between two marks; each mark
// makes callgrind dump its counters (--dump-before=uv_os_getppid, reached by reading process.ppid), so
// each dump holds one chunk. A collection lands on whichever chunk fills the young generation; with
// turns rotating, every mode gets its share. (A forced collection after each chunk cost more than a
// chunk of the floor.)

import { spawn } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BODY_BYTES, flagOption, importLib, isMain, newCredential, numberOption, option, orderBody } from './common.mjs';
import { ensureBenchAppBuilt } from './http.bench.mjs';
import { injectableApp } from './inject.bench.mjs';

const PATH = '/api/inventory';
const CHUNK = 50;
const RESULTS_DIR = new URL('./results/', import.meta.url);

/** Reads process.ppid: callgrind dumps its counters right before (see --dump-before above). */
const mark = () => process.ppid;

async function child({ adapter, modes, ops, warmup }) {
  const lib = await importLib();
  const { createBenchApp } = await import(new URL('./dist/bench-app.js', import.meta.url).href);
  const credential = newCredential('order-bench-1');
  const keys = lib.deriveKeys(Buffer.from(credential.secret, 'base64url'));
  const signing = { id: credential.id, apiKey: credential.apiKey, hmacKey: keys.hmacKey, audience: 'inventory-service' };
  const order = orderBody(BODY_BYTES);
  const url = new URL(`http://localhost${PATH}`);
  const flat = (headers) => Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(v, 'latin1').toString('latin1')]));
  const signed = () => {
    const headers = { 'content-type': 'application/json', 'content-length': String(order.length), host: url.host };
    Object.assign(
      headers,
      lib.signRequest({ method: 'POST', url, headers, body: order }, signing, { nonce: randomBytes(16).toString('base64url') }),
    );
    return headers;
  };
  const request = () => ({ method: 'POST', url: PATH, headers: flat(signed()), payload: order });

  // The floor and verify, as in inject.bench.mjs: sha256(body) + hmac(signature base), and the verifier.
  const ring = lib.KeyRing.from({ callers: [{ id: 'order-service', keys: [credential] }] }, 'inventory-service');
  const verifier = new lib.RequestVerifier(() => ring, new lib.MemoryNonceStore({ maxNoncesPerCaller: 10_000_000 }), {
    audience: 'inventory-service',
  });
  const verifyInput = () => {
    const headers = signed();
    const params = headers['signature-input'].slice('sig1='.length);
    const base =
      `"@method": POST\n"@path": ${PATH}\n"@query": ?\n"x-api-key": ${headers['x-api-key']}\n"content-type": application/json\n` +
      `"content-digest": ${headers['content-digest']}\n"@signature-params": ${params}`;
    return { message: lib.httpMessage({ method: 'POST', target: PATH, headers: flat(headers) }), base };
  };
  let sink = 0;
  const isTrusted = (id) => id === 'order-service';
  const phases = [
    {
      label: 'floor',
      prepare: verifyInput,
      run: async (r) => {
        sink ^= createHash('sha256').update(order).digest()[0] ^ createHmac('sha256', keys.hmacKey).update(r.base, 'utf8').digest()[0];
      },
    },
    { label: 'verify', prepare: verifyInput, run: async (r) => (sink ^= (await verifier.verify(r.message, order, isTrusted)).id.length) },
  ];
  const apps = [];
  for (const mode of modes) {
    const { app, dispatch } = await injectableApp(createBenchApp, { mode, adapter, credential });
    apps.push(app);
    phases.push({
      label: mode,
      prepare: request,
      run: async (r) => {
        const res = await dispatch(r);
        if (res.statusCode !== 200) throw new Error(`${adapter}/${mode}: ${res.statusCode} ${res.body}`);
      },
    });
  }
  // Warm-up, interleaved in chunks so that no app is compiled against another's types alone.
  const warm = new Map(phases.map((p) => [p, Array.from({ length: warmup }, p.prepare)]));
  for (let c = 0; c < warmup; c += 50) for (const p of phases) for (const r of warm.get(p).slice(c, c + 50)) await p.run(r);
  warm.clear();

  // Measured in chunks, phases taking turns (whose turn comes first rotates): run one after the
  // other, each phase's count depended on its place in the order (a collector's work that comes
  // every other phase), by up to 40%.
  const inputs = new Map(phases.map((p) => [p, Array.from({ length: ops }, p.prepare)]));
  const dumps = [];
  let marks = 0;
  for (let c = 0, turn = 0; c < ops; c += CHUNK, turn++) {
    for (let k = 0; k < phases.length; k++) {
      const p = phases[(k + turn) % phases.length];
      const part = inputs.get(p).slice(c, c + CHUNK);
      mark();
      marks++;
      for (const r of part) await p.run(r);
      mark();
      marks++;
      dumps.push({ label: p.label, dump: marks });
    }
  }
  for (const app of apps) await app.close();
  process.stdout.write(`${JSON.stringify({ dumps, sink })}\n`);
}

function callgrindTotal(file) {
  const m = /^totals:\s+(\d+)/m.exec(readFileSync(file, 'latin1')) ?? /^summary:\s+(\d+)/m.exec(readFileSync(file, 'latin1'));
  if (!m) throw new Error(`no totals in ${file}`);
  return Number(m[1]);
}

/** Runs one adapter's child under callgrind; returns { [label]: instructions per request }. */
function countAdapter({ adapter, modes, ops, warmup }) {
  const dir = mkdtempSync(join(fileURLToPath(RESULTS_DIR), `callgrind-${adapter}-`));
  const args = [
    '--tool=callgrind',
    '--dump-before=uv_os_getppid',
    `--callgrind-out-file=${join(dir, 'ir.%p')}`,
    process.execPath,
    '--single-threaded',
    fileURLToPath(import.meta.url),
    '--child',
    '--adapter',
    adapter,
    '--modes',
    modes.join(','),
    '--ops',
    String(ops),
    '--warmup',
    String(warmup),
  ];
  return new Promise((resolve, reject) => {
    const proc = spawn('valgrind', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d) => (out += d));
    proc.stderr.on('data', (d) => (err += d));
    proc.once('error', (e) => reject(new Error(`valgrind could not start (${e.message})`)));
    proc.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`${adapter}: valgrind exited ${code}\n${err.slice(-3000)}`));
      const { dumps } = JSON.parse(out.trim().split('\n').pop());
      const files = readdirSync(dir);
      const perRequest = {};
      for (const { label, dump } of dumps) {
        const file = files.find((f) => f.endsWith(`.${dump}`));
        if (!file) return reject(new Error(`${adapter}: no callgrind dump ${dump} in ${dir}`));
        perRequest[label] = (perRequest[label] ?? 0) + callgrindTotal(join(dir, file)) / ops;
      }
      rmSync(dir, { recursive: true, force: true });
      resolve(perRequest);
    });
  });
}

export async function runInstructionsBench({
  adapters = ['express', 'fastify'],
  modes = ['plain', 'apikey', 'passport', 'guarded'],
  ops = 500,
  warmup = 1500,
} = {}) {
  ensureBenchAppBuilt();
  const result = {};
  for (const adapter of adapters) result[adapter] = await countAdapter({ adapter, modes, ops, warmup });
  return { ops, warmup, node: process.version, result };
}

export function formatInstructionsBench(res) {
  const k = (n) => `${(n / 1000).toFixed(1)}k`;
  const lines = [
    `Instructions per request (callgrind, --single-threaded), ${res.ops} requests per phase after ${res.warmup} of warm-up, node ${res.node}`,
    '',
  ];
  for (const [adapter, r] of Object.entries(res.result)) {
    lines.push(`${adapter}: floor ${k(r.floor)}, verify ${k(r.verify)} (${(r.verify / r.floor).toFixed(2)}x the floor)`);
    for (const mode of Object.keys(r).filter((m) => m !== 'floor' && m !== 'verify'))
      lines.push(
        `  ${mode.padEnd(10)} ${k(r[mode]).padStart(9)}   ${r.plain !== undefined && mode !== 'plain' ? `${r[mode] >= r.plain ? '+' : ''}${k(r[mode] - r.plain)} vs plain` : ''}`,
      );
    if (r.guarded !== undefined && r.apikey !== undefined)
      lines.push(`  guarded - apikey: ${k(r.guarded - r.apikey)} = ${((r.guarded - r.apikey) / r.floor).toFixed(2)}x the floor`);
    if (r.guarded !== undefined && r.passport !== undefined)
      lines.push(`  guarded/passport (passport ÷ guarded): ${(r.passport / r.guarded).toFixed(3)}x`);
  }
  return lines.join('\n');
}

if (isMain(import.meta.url)) {
  const ops = numberOption('ops', 500);
  const warmup = numberOption('warmup', 1500);
  const modes = String(option('modes', 'plain,apikey,passport,guarded')).split(',');
  const run = flagOption('child')
    ? child({ adapter: String(option('adapter', 'fastify')), modes, ops, warmup })
    : runInstructionsBench({ adapters: String(option('adapters', 'express,fastify')).split(','), modes, ops, warmup }).then((res) =>
        console.log(flagOption('json') ? JSON.stringify(res, null, 2) : formatInstructionsBench(res)),
      );
  run.catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
