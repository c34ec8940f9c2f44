// Diagnostic: the server-side cost of one request in each mode, in-process, without sockets, load
// generator or second process (light-my-request, the library behind Fastify's inject(), which also
// drives an Express app). On a shared 2-core machine the HTTP bench's numbers include the load
// generator competing for the CPU and the kernel's loopback work; this one isolates the JavaScript
// that Nest, the adapter and the library run for a request, so that differences between modes are
// the cost of what each mode adds.
//
//   npm run build
//   node bench/inject.bench.mjs [--rounds 9] [--ops 2000] [--chunk 50] [--adapters express,fastify] [--modes plain,hooks,guarded,encrypted] [--json]  (also: unsigned)
//                               [--cpu-prof]   (samples the timed requests only; prints µs/request by package and function per mode)
//
// Requests are those of the HTTP bench (bench/http.bench.mjs): a 1 KiB order, signed (and for the
// encrypted mode encrypted) by the library, a fresh nonce each, all prepared before timing. Each
// request is awaited before the next (one request in flight, like one connection without pipelining).
// Every round gives each (adapter, mode) N requests, interleaved in chunks of 50
// (--chunk) with rotating turns; medians, interquartile ranges and ranges over rounds. Times are
// CPU time of this process (process.cpuUsage), not wall-clock time: see cpuUs.
// light-my-request's own work (fake req/res objects) is in every mode alike: compare differences in
// µs per request, not ratios, with the HTTP bench.

import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { fileURLToPath } from 'node:url';
import { ensureBenchAppBuilt } from './http.bench.mjs';
import {
  BODY_BYTES,
  disagreement,
  flagOption,
  fmtSpread,
  importLib,
  isMain,
  median,
  newCredential,
  numberOption,
  option,
  orderBody,
  spreadOf,
} from './common.mjs';

const require = createRequire(import.meta.url);
/**
 * This process's CPU time in µs. Timing by CPU rather than by the clock leaves out the time the process
 * waits for the CPU, which on a shared machine is most of the noise; GC threads are counted, as they
 * should be.
 */
const cpuUs = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};
/**
 * V8's collector on demand (what --expose-gc gives), also when this module runs inside bench/run.mjs,
 * which node was started without that flag.
 */
setFlagsFromString('--expose-gc');
const v8gc = runInNewContext('gc');
const collectGarbage = (type) => v8gc({ type, execution: 'sync' });
const ALL_MODES = ['plain', 'hooks', 'apikey', 'passport', 'guarded', 'encrypted'];
/** Modes run only when asked for (--modes): 'unsigned' is guarded with signAnswers: false, to profile signed answers against. */
const KNOWN_MODES = [...ALL_MODES, 'unsigned'];
export const VERIFY_TARGET = 2;
export const GUARDED_OVER_APIKEY_TARGET = 3;
const PATH = '/api/inventory';

export async function runInjectBench({
  rounds = 9,
  ops = 2000,
  warmupOps = 3000,
  adapters = ['express', 'fastify'],
  modes = ALL_MODES,
  chunk = 50,
  profileFile,
} = {}) {
  ensureBenchAppBuilt();
  const lib = await importLib();
  const { createBenchApp } = await import(new URL('./dist/bench-app.js', import.meta.url).href);
  const credential = newCredential('order-bench-1');
  const keys = lib.deriveKeys(Buffer.from(credential.secret, 'base64url'));
  const signing = { id: credential.id, apiKey: credential.apiKey, hmacKey: keys.hmacKey, audience: 'inventory-service' };
  const order = orderBody(BODY_BYTES);
  const url = new URL(`http://localhost${PATH}`);
  const make = (mode) => {
    let body = order;
    const headers = { 'content-type': 'application/json' };
    if (mode === 'encrypted') {
      body = Buffer.from(lib.encryptCompact(order, keys.encryptionKey, { kid: credential.id, cty: 'application/json' }), 'latin1');
      headers['content-type'] = lib.JWE_MEDIA_TYPE;
      headers.accept = lib.JWE_MEDIA_TYPE;
    }
    Object.assign(
      headers,
      lib.signRequest({ method: 'POST', url, headers, body }, signing, { nonce: randomBytes(16).toString('base64url') }),
    );
    return { method: 'POST', url: PATH, headers: asFromTheWire(headers), payload: body };
  };

  const apps = [];
  const targets = [];
  for (const adapter of adapters) {
    // In the order asked for: compareProfiles shows the difference of the last mode over the first.
    for (const mode of modes.filter((m) => KNOWN_MODES.includes(m))) {
      const { app, dispatch } = await injectableApp(createBenchApp, { mode, adapter, credential });
      apps.push(app);
      targets.push({ adapter, mode, dispatch });
    }
  }
  // The crypto floor and the verifier alone, timed in the same rounds: what any correct verification
  // must compute (sha256 of the body + hmac-sha256 of the signature base), and RequestVerifier.verify.
  const core = coreContenders(lib, credential, keys.hmacKey, order);

  let failures = 0;
  const statuses = {};
  const monoUs = () => Number(process.hrtime.bigint() / 1000n); // the clock of V8 profile samples
  const time = async (t, reqs, after) => {
    const m0 = monoUs();
    const c0 = cpuUs();
    for (const r of reqs) {
      const res = await t.dispatch(r);
      if (res.statusCode !== 200) {
        failures++;
        statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
      }
    }
    after?.();
    const us = (cpuUs() - c0) / reqs.length;
    (t.windows ??= []).push([m0, monoUs()]);
    t.requests = (t.requests ?? 0) + reqs.length;
    return us;
  };
  try {
    for (const t of targets) {
      const res = await t.dispatch(make(t.mode));
      const ok = res.statusCode === 200 && (t.mode !== 'encrypted' || String(res.headers['content-type']).startsWith(lib.JWE_MEDIA_TYPE));
      if (!ok) throw new Error(`${t.adapter}/${t.mode}: ${res.statusCode} ${res.body}`);
      await time(
        t,
        Array.from({ length: warmupOps }, () => make(t.mode)),
      );
    }
    failures = 0;
    for (const t of targets) {
      t.windows = [];
      t.requests = 0;
    }
    // Optional sampling profile of the timed requests only (signing happens between the windows).
    let session;
    if (profileFile) {
      const { Session } = await import('node:inspector/promises');
      session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 100 });
      await session.post('Profiler.start');
    }
    // Every round interleaves all apps in chunks of `chunk` requests (whose turn
    // comes first rotates), so that a neighbour's burst of load lands on all of them alike. Timed in
    // blocks of thousands of requests one after the other, the modes' CPU per request moved by tens of
    // µs between blocks on a shared machine, far more than the differences the targets are about.
    const samples = new Map(targets.map((t) => [t, []]));
    const coreSamples = { floor: [], verify: [] };
    await core.time('verify', core.prepare(ops));
    core.time('floor', core.prepare(ops));
    const all = targets;
    for (let r = 0; r < rounds; r++) {
      const inputs = new Map(all.map((t) => [t, Array.from({ length: ops }, () => make(t.mode))]));
      const spent = new Map(all.map((t) => [t, 0]));
      collectGarbage('major');
      for (let c = 0, turn = r; c < ops; c += chunk, turn++) {
        for (let k = 0; k < all.length; k++) {
          const t = all[(k + turn) % all.length];
          const part = inputs.get(t).slice(c, c + chunk);
          // Each chunk ends with a collection of the young generation, timed with it: every mode pays
          // for collecting its own garbage, and for no one else's (a scavenge of a few ms landing on a
          // chunk of 50 requests was most of the spread). Its fixed part is the same in every mode.
          spent.set(t, spent.get(t) + (await time(t, part, () => collectGarbage('minor'))) * part.length);
        }
      }
      for (const t of targets) samples.get(t).push(spent.get(t) / ops);
      // The floor and verify in blocks of their own, who goes first alternating: in chunks between the
      // apps' and after a forced collection, the floor's 4-5 µs doubled (its Hash objects are native).
      for (const name of r % 2 ? ['verify', 'floor'] : ['floor', 'verify'])
        coreSamples[name].push(await core.time(name, core.prepare(ops)));
    }
    let profiles;
    if (session) {
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      const { writeFileSync } = await import('node:fs');
      writeFileSync(profileFile, JSON.stringify(profile));
      profiles = {};
      for (const t of targets)
        (profiles[t.adapter] ??= []).push({ label: t.mode, file: profileFile, windows: t.windows, requests: t.requests });
    }
    const result = {};
    for (const t of targets) {
      result[t.adapter] ??= {};
      result[t.adapter][t.mode] = { usPerReq: median(samples.get(t)), rounds: samples.get(t) };
    }
    for (const adapter of adapters) {
      const plain = samples.get(targets.find((t) => t.adapter === adapter && t.mode === 'plain'));
      if (!plain) continue;
      for (const t of targets.filter((x) => x.adapter === adapter && x.mode !== 'plain')) {
        const per = samples.get(t).map((v, i) => v - plain[i]);
        result[adapter][t.mode].addedUs = median(per);
        result[adapter][t.mode].addedRange = [Math.min(...per), Math.max(...per)];
      }
    }
    const floor = median(coreSamples.floor);
    const verify = median(coreSamples.verify);
    const verifyVsFloor = spreadOf(coreSamples.verify.map((v, i) => v / coreSamples.floor[i]));
    const summary = {
      floorUs: floor,
      verifyUs: verify,
      verifyVsFloor: verifyVsFloor.median,
      verifyVsFloorSpread: verifyVsFloor,
      verifyVsFloorUnstable: disagreement(verifyVsFloor, { target: VERIFY_TARGET }),
    };
    const of = (adapter, mode) => samples.get(targets.find((t) => t.adapter === adapter && t.mode === mode));
    for (const adapter of adapters) {
      const guarded = of(adapter, 'guarded');
      const apikey = of(adapter, 'apikey');
      const passport = of(adapter, 'passport');
      if (!guarded) continue;
      summary[adapter] = {};
      // The in-server cost of signatures and replay protection over a bare API-key check, against the floor.
      if (apikey) {
        const vsFloor = spreadOf(guarded.map((g, i) => (g - apikey[i]) / coreSamples.floor[i]));
        Object.assign(summary[adapter], {
          guardedOverApikeyUs: median(guarded.map((g, i) => g - apikey[i])),
          vsFloor: vsFloor.median,
          vsFloorRange: [vsFloor.min, vsFloor.max],
          vsFloorSpread: vsFloor,
          vsFloorUnstable: disagreement(vsFloor, { target: GUARDED_OVER_APIKEY_TARGET }),
        });
      }
      // The HTTP bench's guarded/passport target, without sockets: passport's CPU per request ÷ guarded's.
      if (passport) {
        const vsPassport = spreadOf(guarded.map((g, i) => passport[i] / g));
        Object.assign(summary[adapter], {
          guardedOverPassportUs: median(guarded.map((g, i) => g - passport[i])),
          vsPassport,
          vsPassportUnstable: disagreement(vsPassport, { target: 1 }),
        });
      }
    }
    return { rounds, ops, node: process.version, result, summary, failures, statuses, profiles };
  } finally {
    for (const app of apps) await app.close();
  }
}

/**
 * Header values as Node's HTTP parser hands them over: flat strings. signRequest builds its values by
 * concatenation, and V8 keeps a concatenation as a tree of parts (a cons string) that every character
 * read then has to walk: left as they are, they would make the server's parsing look slower than it is.
 */
/**
 * One bench app of `createBenchApp` (bench/dist/bench-app.js of some build), initialised, and how to send
 * it a request in-process: Fastify's inject(), or light-my-request on the Express handler.
 */
export async function injectableApp(createBenchApp, { mode, adapter, credential, ...more }) {
  const app = await createBenchApp({ mode, adapter, credential, logger: ['error'], ...more });
  await app.init();
  const instance = app.getHttpAdapter().getInstance();
  if (adapter === 'fastify') {
    await instance.ready();
    return { app, dispatch: (opts) => instance.inject(opts) };
  }
  // A dependency of fastify (its inject()); resolved from fastify's own location.
  const inject = require(require.resolve('light-my-request', { paths: [require.resolve('fastify')] }));
  return { app, dispatch: (opts) => inject(instance, opts) };
}

function asFromTheWire(headers) {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, Buffer.from(value, 'latin1').toString('latin1')]));
}

/** sha256(body) + hmac-sha256(base), and RequestVerifier.verify, over requests signed like the HTTP ones. */
function coreContenders(lib, credential, hmacKey, body) {
  const ring = lib.KeyRing.from({ callers: [{ id: 'order-service', keys: [credential] }] }, 'inventory-service');
  const verifier = new lib.RequestVerifier(() => ring, new lib.MemoryNonceStore({ maxNoncesPerCaller: 10_000_000 }), {
    audience: 'inventory-service',
  });
  const signing = { id: credential.id, apiKey: credential.apiKey, hmacKey, audience: 'inventory-service' };
  const url = new URL(`http://localhost${PATH}`);
  const isTrusted = (id) => id === 'order-service';
  const prepare = (n) =>
    Array.from({ length: n }, () => {
      const headers = { 'content-type': 'application/json', 'content-length': String(body.length), host: url.host };
      Object.assign(
        headers,
        lib.signRequest({ method: 'POST', url, headers, body }, signing, { nonce: randomBytes(16).toString('base64url') }),
      );
      const message = lib.httpMessage({ method: 'POST', target: PATH, headers: asFromTheWire(headers) });
      // The floor's signature base: the lines signRequest signed, rebuilt by hand.
      const params = headers['signature-input'].slice('sig1='.length);
      const base =
        `"@method": POST\n"@path": ${PATH}\n"@query": ?\n"x-api-key": ${headers['x-api-key']}\n"content-type": application/json\n` +
        `"content-digest": ${headers['content-digest']}\n"@signature-params": ${params}`;
      return { message, base };
    });
  let sink = 0;
  const time = async (name, items) => {
    const t0 = cpuUs();
    if (name === 'floor') {
      for (const r of items)
        sink ^= createHash('sha256').update(body).digest()[0] ^ createHmac('sha256', hmacKey).update(r.base, 'utf8').digest()[0];
    } else {
      for (const r of items) sink ^= (await verifier.verify(r.message, body, { isTrusted })).caller.id.length;
    }
    return (cpuUs() - t0) / items.length;
  };
  // The floor's base must be the signed one, or it measures something else.
  const [probe] = prepare(1);
  const signature = probe.message.header('signature').slice('sig1=:'.length, -1);
  if (createHmac('sha256', hmacKey).update(probe.base, 'utf8').digest('base64') !== signature)
    throw new Error('inject: the floor signs another base');
  return { prepare, time, sink: () => sink };
}

export function formatInjectBench(res) {
  const lines = [
    `In-process server cost per request (light-my-request, no sockets), ${res.rounds} rounds x ${res.ops} requests, node ${res.node}`,
    '',
  ];
  lines.push('adapter  mode        µs/request   added vs plain (paired, range)');
  for (const [adapter, modes] of Object.entries(res.result)) {
    for (const [mode, m] of Object.entries(modes)) {
      lines.push(
        `${adapter.padEnd(8)} ${mode.padEnd(10)} ${m.usPerReq.toFixed(1).padStart(10)}   ` +
          (m.addedUs === undefined
            ? ''
            : `${m.addedUs >= 0 ? '+' : ''}${m.addedUs.toFixed(1)} µs (${m.addedRange[0].toFixed(1)} to ${m.addedRange[1].toFixed(1)})`),
      );
    }
  }
  const sm = res.summary;
  const unstable = (why) => (why ? [`  UNSTABLE: rounds disagree (${why})`] : []);
  lines.push(
    '',
    `same rounds: floor sha256(body) + hmac(base) ${sm.floorUs.toFixed(1)} µs, RequestVerifier.verify ${sm.verifyUs.toFixed(1)} µs: ` +
      `${fmtSpread(sm.verifyVsFloorSpread)} the floor; target <= ${VERIFY_TARGET}x`,
    ...unstable(sm.verifyVsFloorUnstable),
  );
  for (const adapter of Object.keys(res.result)) {
    const a = sm[adapter];
    if (a?.vsFloorSpread) {
      lines.push(
        `${adapter.padEnd(8)} guarded - apikey: ${a.guardedOverApikeyUs.toFixed(1)} µs = ${fmtSpread(a.vsFloorSpread)} the floor; target <= ${GUARDED_OVER_APIKEY_TARGET}x`,
        ...unstable(a.vsFloorUnstable),
      );
    }
    if (a?.vsPassport) {
      lines.push(
        `${adapter.padEnd(8)} guarded vs passport (passport µs ÷ guarded µs): ${fmtSpread(a.vsPassport)}, guarded ${a.guardedOverPassportUs >= 0 ? '+' : ''}${a.guardedOverPassportUs.toFixed(1)} µs`,
        ...unstable(a.vsPassportUnstable),
      );
    }
  }
  lines.push('', res.failures ? `NON-200 ANSWERS: ${res.failures} ${JSON.stringify(res.statuses)}` : 'non-200 answers: 0');
  return lines.join('\n');
}

async function main() {
  const quick = flagOption('quick');
  let profileFile;
  if (flagOption('cpu-prof')) {
    const dir = fileURLToPath(new URL('profiles/', import.meta.url));
    mkdirSync(dir, { recursive: true });
    profileFile = `${dir}inject-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`;
  }
  const res = await runInjectBench({
    profileFile,
    rounds: numberOption('rounds', quick ? 3 : 9),
    ops: numberOption('ops', quick ? 500 : 2000),
    chunk: numberOption('chunk', 50),
    adapters: String(option('adapters', 'express,fastify')).split(','),
    modes: String(option('modes', ALL_MODES.join(','))).split(','),
  });
  console.log(flagOption('json') ? JSON.stringify(res, null, 2) : formatInjectBench(res));
  if (res.profiles && !flagOption('json')) {
    const { compareProfiles } = await import('./profile-summary.mjs');
    console.log(`\nCPU profile of the timed requests (${profileFile}):`);
    for (const [adapter, entries] of Object.entries(res.profiles))
      console.log(`\n== ${adapter} ==\n${compareProfiles(entries, { top: numberOption('top', 40) })}`);
  }
  if (res.failures) process.exitCode = 1;
}

if (isMain(import.meta.url)) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
