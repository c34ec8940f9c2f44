// Ed25519 credentials and signed answers: what they cost, each against something timed in the same rounds.
//
//   npm run build
//   node bench/ed25519.bench.mjs [--rounds 15] [--ops 2000] [--verify-ops 2000] [--adapters express,fastify] [--json]
//
// 1. verify: RequestVerifier.verify of an ed25519-signed 1 KiB POST (the verify bench's request, signed
//    with an Ed25519 key) against its floor, a bare `crypto.verify(null, base, publicKey, signature)` of
//    the same signature base with a KeyObject: the one operation any Ed25519 verification must do.
//    verify also does what the floor leaves out: sha256 of the body (Content-Digest), RFC 8941 parsing,
//    the key lookup by API key, the time window and the nonce claim (one MemoryNonceStore for the run).
//    Target: verify ≤ 1.3× the floor. Contenders alternate every 250 requests, who goes first alternating
//    (as in verify.bench.mjs); CPU time of this process.
// 2. in-process requests (light-my-request, as bench/inject.bench.mjs, same bench app and 1 KiB order),
//    on Express and on Fastify, four apps per adapter: an hmac-sha256 caller and an ed25519 caller, each
//    with signed answers (the default) and with `signAnswers: false`. All eight apps take turns every 50
//    requests within each round (rotating who goes first), each chunk paying for its own young-generation
//    collection; CPU µs per request, medians over rounds of per-round ratios:
//      - ed25519 / hmac, answers signed: requests per CPU-second of the ed25519 pair over the hmac pair's
//        (shown, no target): the caller's signature checked with Ed25519 instead of HMAC, and the answer
//        signed with the service's Ed25519 answer key instead of the pair's HMAC answer key.
//      - signed / unsigned answers: requests per CPU-second with signed answers over without (the
//        interceptor's Content-Digest of the answer bytes and the response signature), per algorithm.
//        Target for the default (hmac-sha256): ≥ 0.9×.
// The requests are prepared (signed) before each round; only the server's work is timed.

import { createPrivateKey, createPublicKey, randomBytes, verify as cryptoVerify } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ensureBenchAppBuilt } from './http.bench.mjs';
import { injectableApp } from './inject.bench.mjs';
import {
  BODY_BYTES,
  disagreement,
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

export const TARGETS = { verifyVsFloorMax: 1.3, signedVsUnsignedMin: 0.9 };
const PATH = '/api/inventory';
const AUDIENCE = 'inventory-service';

setFlagsFromString('--expose-gc');
const v8gc = runInNewContext('gc');
const collectGarbage = (type) => v8gc({ type, execution: 'sync' });

/** This process's CPU time in µs (user + system): waiting for a core on a shared machine is left out. */
const cpuUs = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

/** Header values as Node's HTTP parser hands them over: flat strings (see inject.bench.mjs). */
const asFromTheWire = (headers) =>
  Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, Buffer.from(value, 'latin1').toString('latin1')]));

/** A fresh ed25519 pair: what the caller signs with, what the callee holds, and the callee's answer key. */
function ed25519Pair(lib) {
  const credential = newCredential('order-bench-ed-1');
  const caller = lib.generateEd25519KeyText();
  const answer = lib.generateEd25519KeyText();
  const der = (text) => Buffer.from(text, 'base64url');
  return {
    signing: {
      id: credential.id,
      apiKey: credential.apiKey,
      audience: AUDIENCE,
      algorithm: 'ed25519',
      privateKey: createPrivateKey({ key: der(caller.privateKey), format: 'der', type: 'pkcs8' }),
    },
    publicKey: createPublicKey({ key: der(caller.publicKey), format: 'der', type: 'spki' }),
    /** The callee's view: the caller's public key in place of a secret. */
    callee: { id: credential.id, apiKey: credential.apiKey, algorithm: 'ed25519', secret: caller.publicKey },
    answerKey: { id: 'inventory-answers-1', key: answer.privateKey },
  };
}

/** 1. RequestVerifier.verify of ed25519-signed requests vs a bare crypto.verify of the same base. */
async function runVerify(lib, { rounds, ops }) {
  const { parseSignatureFields } = await importLib('protocol/signature-fields.js');
  const { buildSignatureBase } = await importLib('protocol/signature-base.js');
  const pair = ed25519Pair(lib);
  const ring = lib.KeyRing.from({ callers: [{ id: 'order-service', keys: [pair.callee] }], answerKeys: [pair.answerKey] }, AUDIENCE);
  const verifier = new lib.RequestVerifier(() => ring, new lib.MemoryNonceStore({ maxNoncesPerCaller: 10_000_000 }), {
    audience: AUDIENCE,
  });
  const isTrusted = (id) => id === 'order-service';
  const body = orderBody(BODY_BYTES);
  const url = new URL(`http://127.0.0.1:8082${PATH}`);
  const presign = (n) =>
    Array.from({ length: n }, () => {
      const headers = { 'content-type': 'application/json', 'content-length': String(body.length), host: url.host };
      Object.assign(headers, lib.signRequest({ method: 'POST', url, headers, body }, pair.signing));
      const message = lib.httpMessage({ method: 'POST', target: PATH, headers: asFromTheWire(headers) });
      const [parsed] = parseSignatureFields(headers['signature-input'], headers.signature);
      // The floor's inputs, made before timing: the base as bytes and the signature as a Buffer.
      const base = Buffer.from(buildSignatureBase(message, parsed.components, parsed.signatureParams), 'utf8');
      return { message, base, signature: Buffer.from(parsed.signature) };
    });
  let sink = 0;
  const contenders = {
    verify: async (items) => {
      for (const r of items) sink ^= (await verifier.verify(r.message, body, { isTrusted })).caller.id.length;
    },
    floor: async (items) => {
      for (const r of items) sink ^= cryptoVerify(null, r.base, pair.publicKey, r.signature) ? 1 : 0;
    },
  };
  // Sanity: both accept what they are given; verify refuses the replay; the floor refuses a changed base.
  {
    const [r] = presign(1);
    if (!cryptoVerify(null, r.base, pair.publicKey, r.signature)) throw new Error('ed25519 floor: the signature does not verify');
    const changed = Buffer.from(r.base);
    changed[0] ^= 1;
    if (cryptoVerify(null, changed, pair.publicKey, r.signature)) throw new Error('ed25519 floor: a changed base verifies');
    const { caller } = await verifier.verify(r.message, body, { isTrusted });
    if (caller.id !== 'order-service') throw new Error('ed25519 verify: wrong caller');
    const replay = await verifier.verify(r.message, body, { isTrusted }).then(
      () => undefined,
      (e) => e.reason,
    );
    if (replay !== 'nonce_replayed') throw new Error(`ed25519 verify: a replay was not refused (${replay})`);
  }
  for (const name of Object.keys(contenders)) await contenders[name](presign(Math.min(ops, 2000)));

  const CHUNK = 250;
  const names = Object.keys(contenders);
  const us = { verify: [], floor: [] };
  for (let r = 0; r < rounds; r++) {
    const reqs = presign(ops);
    const spent = { verify: 0, floor: 0 };
    for (let c = 0, k = r; c < reqs.length; c += CHUNK, k++) {
      const slice = reqs.slice(c, c + CHUNK);
      for (let j = 0; j < names.length; j++) {
        const name = names[(j + k) % names.length];
        const t0 = cpuUs();
        await contenders[name](slice);
        spent[name] += cpuUs() - t0;
      }
    }
    for (const n of names) us[n].push(spent[n] / ops);
  }
  const ratio = spreadOf(us.verify.map((v, i) => v / us.floor[i]));
  return { rounds, ops, usPerOp: { verify: median(us.verify), floor: median(us.floor) }, verifyVsFloor: ratio, sink };
}

/** 2. The bench app in-process: hmac-sha256 and ed25519 callers, with and without signed answers, on each adapter. */
async function runInject(lib, { rounds, ops, adapters, chunk = 50, warmupOps = 2000 }) {
  ensureBenchAppBuilt();
  const { createBenchApp } = await import(new URL('./dist/bench-app.js', import.meta.url).href);
  const hmacCredential = newCredential('order-bench-1');
  const hmacSigning = {
    id: hmacCredential.id,
    apiKey: hmacCredential.apiKey,
    audience: AUDIENCE,
    hmacKey: lib.deriveKeys(Buffer.from(hmacCredential.secret, 'base64url')).hmacKey,
  };
  const pair = ed25519Pair(lib);
  const order = orderBody(BODY_BYTES);
  const url = new URL(`http://localhost${PATH}`);
  const make = (signing) => {
    const headers = { 'content-type': 'application/json' };
    Object.assign(
      headers,
      lib.signRequest({ method: 'POST', url, headers, body: order }, signing, { nonce: randomBytes(16).toString('base64url') }),
    );
    return { method: 'POST', url: PATH, headers: asFromTheWire(headers), payload: order };
  };

  const targets = [];
  const apps = [];
  try {
    for (const adapter of adapters) {
      for (const algorithm of ['hmac-sha256', 'ed25519']) {
        for (const mode of ['guarded', 'unsigned']) {
          const options =
            algorithm === 'ed25519'
              ? { mode, adapter, credential: pair.callee, answerKey: pair.answerKey }
              : { mode, adapter, credential: hmacCredential };
          const { app, dispatch } = await injectableApp(createBenchApp, options);
          apps.push(app);
          targets.push({ adapter, algorithm, mode, dispatch, signing: algorithm === 'ed25519' ? pair.signing : hmacSigning });
        }
      }
    }
    let failures = 0;
    const time = async (t, reqs) => {
      const c0 = cpuUs();
      for (const r of reqs) if ((await t.dispatch(r)).statusCode !== 200) failures++;
      collectGarbage('minor'); // each chunk pays for collecting its own garbage (inject.bench.mjs)
      return cpuUs() - c0;
    };
    // Sanity: each app answers 200, signs its answers with the pair's algorithm, or not at all when unsigned.
    for (const t of targets) {
      const res = await t.dispatch(make(t.signing));
      const input = res.headers['signature-input'];
      const signedAs = typeof input === 'string' ? /;alg="([^"]+)"/.exec(input)?.[1] : undefined;
      const expected = t.mode === 'guarded' ? t.algorithm : undefined;
      if (res.statusCode !== 200 || signedAs !== expected)
        throw new Error(
          `${t.adapter} ${t.algorithm} ${t.mode}: ${res.statusCode}, answer signed with ${signedAs ?? 'nothing'} ${res.body}`,
        );
      await time(
        t,
        Array.from({ length: warmupOps }, () => make(t.signing)),
      );
    }
    failures = 0;
    const samples = new Map(targets.map((t) => [t, []]));
    for (let r = 0; r < rounds; r++) {
      const inputs = new Map(targets.map((t) => [t, Array.from({ length: ops }, () => make(t.signing))]));
      const spent = new Map(targets.map((t) => [t, 0]));
      collectGarbage('major');
      for (let c = 0, turn = r; c < ops; c += chunk, turn++) {
        for (let k = 0; k < targets.length; k++) {
          const t = targets[(k + turn) % targets.length];
          spent.set(t, spent.get(t) + (await time(t, inputs.get(t).slice(c, c + chunk))));
        }
      }
      for (const t of targets) samples.get(t).push(spent.get(t) / ops);
    }
    const of = (adapter, algorithm, mode) =>
      samples.get(targets.find((t) => t.adapter === adapter && t.algorithm === algorithm && t.mode === mode));
    const result = {};
    for (const adapter of adapters) {
      const usPerReq = {};
      for (const algorithm of ['hmac-sha256', 'ed25519'])
        for (const mode of ['guarded', 'unsigned']) usPerReq[`${algorithm} ${mode}`] = median(of(adapter, algorithm, mode));
      // Requests per CPU-second of a over b: b's CPU per request ÷ a's, paired per round.
      const ratio = (a, b) => spreadOf(a.map((x, i) => b[i] / x));
      result[adapter] = {
        usPerReq,
        ed25519VsHmac: ratio(of(adapter, 'ed25519', 'guarded'), of(adapter, 'hmac-sha256', 'guarded')),
        ed25519VsHmacUnsigned: ratio(of(adapter, 'ed25519', 'unsigned'), of(adapter, 'hmac-sha256', 'unsigned')),
        signedVsUnsigned: {
          'hmac-sha256': ratio(of(adapter, 'hmac-sha256', 'guarded'), of(adapter, 'hmac-sha256', 'unsigned')),
          ed25519: ratio(of(adapter, 'ed25519', 'guarded'), of(adapter, 'ed25519', 'unsigned')),
        },
      };
    }
    return { rounds, ops, chunk, result, failures };
  } finally {
    for (const app of apps) await app.close();
  }
}

export async function runEd25519Bench({ rounds = 15, ops = 2000, verifyOps = 2000, adapters = ['express', 'fastify'] } = {}) {
  const lib = await importLib();
  const verify = await runVerify(lib, { rounds, ops: verifyOps });
  const inject = await runInject(lib, { rounds, ops, adapters });
  return { node: process.version, bodyBytes: BODY_BYTES, targets: TARGETS, verify, inject };
}

export function formatEd25519Bench(res) {
  const lines = [];
  const v = res.verify;
  lines.push(`Ed25519: ${res.bodyBytes}-byte JSON POST, node ${res.node}`);
  lines.push('');
  lines.push(`verify, ${v.rounds} rounds x ${v.ops} requests (CPU µs per request, medians):`);
  lines.push(`  RequestVerifier.verify (ed25519)                    ${v.usPerOp.verify.toFixed(1).padStart(7)}`);
  lines.push(`  floor: crypto.verify(null, base, publicKey, sig)     ${v.usPerOp.floor.toFixed(1).padStart(7)}`);
  lines.push(
    `  verify / floor (target <= ${res.targets.verifyVsFloorMax}x): ${fmtSpread(v.verifyVsFloor)} ${v.verifyVsFloor.median <= res.targets.verifyVsFloorMax ? 'PASS' : 'MISS'}`,
  );
  const why = disagreement(v.verifyVsFloor, { target: res.targets.verifyVsFloorMax });
  if (why) lines.push(`  UNSTABLE: rounds disagree (${why})`);
  const i = res.inject;
  lines.push('');
  lines.push(`in-process requests (light-my-request), ${i.rounds} rounds x ${i.ops} requests per app, apps interleaved every ${i.chunk}:`);
  lines.push('adapter  credential   answers    CPU µs/request');
  for (const [adapter, a] of Object.entries(i.result)) {
    for (const [name, us] of Object.entries(a.usPerReq)) {
      const [algorithm, mode] = name.split(' ');
      lines.push(
        `${adapter.padEnd(8)} ${algorithm.padEnd(12)} ${(mode === 'guarded' ? 'signed' : 'unsigned').padEnd(10)} ${us.toFixed(1).padStart(10)}`,
      );
    }
  }
  lines.push('');
  lines.push('requests per CPU-second, ratio (median of per-round ratios, IQR, range):');
  for (const [adapter, a] of Object.entries(i.result)) {
    lines.push(`  ${adapter.padEnd(8)} ed25519 / hmac-sha256, answers signed:   ${fmtSpread(a.ed25519VsHmac)}`);
    lines.push(`  ${adapter.padEnd(8)} ed25519 / hmac-sha256, answers unsigned: ${fmtSpread(a.ed25519VsHmacUnsigned)}`);
    for (const [algorithm, s] of Object.entries(a.signedVsUnsigned)) {
      const judged = algorithm === 'hmac-sha256';
      const verdict = judged
        ? ` (target >= ${res.targets.signedVsUnsignedMin}x) ${s.median >= res.targets.signedVsUnsignedMin ? 'PASS' : 'MISS'}`
        : '';
      lines.push(
        `  ${adapter.padEnd(8)} ${algorithm} signed / unsigned answers:${' '.repeat(12 - algorithm.length)} ${fmtSpread(s)}${verdict}`,
      );
    }
  }
  if (i.failures) lines.push(`FAILURES: ${i.failures} requests not answered 200`);
  return lines.join('\n');
}

async function main() {
  const res = await runEd25519Bench({
    rounds: numberOption('rounds', 15),
    ops: numberOption('ops', 2000),
    verifyOps: numberOption('verify-ops', 2000),
    adapters: String(option('adapters', 'express,fastify')).split(','),
  });
  if (option('json', false)) console.log(JSON.stringify(res, null, 2));
  else console.log(formatEd25519Bench(res));
  if (res.inject.failures) process.exitCode = 1;
}

if (isMain(import.meta.url)) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
