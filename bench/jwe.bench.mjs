// JWE (alg "dir", enc "A256GCM") micro-benchmark: our compact implementation vs jose vs the raw
// AES-256-GCM floor of node:crypto, on a 1 KiB JSON body, encrypt and decrypt, in one process.
//
//   npm run build   (or: npx tsc -b libs/service-auth/tsconfig.lib.json)
//   node bench/jwe.bench.mjs [--rounds 15] [--ops 2000] [--clock wall|cpu] [--json]
//
// Method: warm every contender up, then run K rounds; in each round every contender times N
// operations, the contenders taking turns in a rotating order, so that drift and noise (GC, turbo
// boost, neighbours) hit all of them alike. The synchronous contenders (ours, raw) run as one
// group, back to back, and jose as another, the groups alternating. Each contender's score is its
// median ops/s over the rounds; each ratio is the median over rounds of that round's ratio.
//
// Contenders
//   ours        encryptCompact / decryptCompact (compact string in, compact string out), header
//               {alg, enc, kid, cty} as on the library's request path
//   ours (nonce/msg)
//               the same with a distinct "nonce" member in every header (as on the response path)
//   jose        CompactEncrypt / compactDecrypt with the key as a Uint8Array (its usual use)
//   jose (CryptoKey)
//               the same with a CryptoKey imported once (jose's fastest configuration)
//   raw         createCipheriv + update + final + getAuthTag, with a fresh IV taken from a pool
//               filled by randomFillSync (any correct use needs a fresh IV; this is the cheapest
//               way); createDecipheriv + setAuthTag + update + final on pre-split binary parts.
//               No header, no AAD, no base64url, no JSON: the floor.
// jose is asynchronous (WebCrypto); its operations are awaited one after another, i.e. one request
// stream, the same as the synchronous contenders.
//
// Clocks: "wall" (default) is elapsed time. On a shared machine, other processes' load leaks into
// it; "cpu" counts the CPU time of this whole process instead (all threads: JS, GC helpers and the
// libuv pool where WebCrypto runs), which is the cost per operation and is far less sensitive to
// neighbours. It does not count jose's idle waits for the thread pool, which flatters jose.

import { createCipheriv, createDecipheriv, randomBytes, randomFillSync, webcrypto } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import * as jose from 'jose';

// The compiled library; JWE_COMPACT_MODULE=/path/to/jwe-compact.js overrides it (e.g. a one-file build).
const LIB_URL = process.env.JWE_COMPACT_MODULE
  ? pathToFileURL(process.env.JWE_COMPACT_MODULE)
  : new URL('../libs/service-auth/dist/esm/crypto/jwe-compact.js', import.meta.url);
const KID = 'bench-key-1';
const BODY_BYTES = 1024;

/** A JSON document of exactly `size` bytes (UTF-8). */
function jsonBody(size) {
  const doc = { orderId: 'ord-000123', customer: 'cus-42', items: [], note: '' };
  for (let i = 0; JSON.stringify(doc).length < size - 64; i++) doc.items.push({ sku: `SKU-${1000 + i}`, qty: (i % 5) + 1 });
  doc.note = 'x'.repeat(size - JSON.stringify(doc).length);
  const bytes = Buffer.from(JSON.stringify(doc), 'utf8');
  if (bytes.length !== size) throw new Error(`body is ${bytes.length} bytes, wanted ${size}`);
  return bytes;
}

async function loadOurs() {
  try {
    return await import(LIB_URL.href);
  } catch (err) {
    throw new Error(`cannot load ${LIB_URL.pathname}; build the library first (npm run build). ${err.message}`, { cause: err });
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Milliseconds on the chosen clock: wall time, or CPU time of the whole process (all threads). */
const clocks = {
  wall: () => performance.now(),
  cpu: () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  },
};

/** Times `ops` calls of a sync or async function; returns ops/s. `sink` defeats dead-code removal. */
let sink = 0;
async function time(fn, isAsync, ops, now) {
  const t0 = now();
  if (isAsync) {
    for (let i = 0; i < ops; i++) sink ^= (await fn()).length & 1;
  } else {
    for (let i = 0; i < ops; i++) sink ^= fn().length & 1;
  }
  const ms = now() - t0;
  return (ops * 1000) / ms;
}

/**
 * Runs the benchmark and returns the numbers:
 * { rounds, ops, clock, bodyBytes, tokenChars, node,
 *   opsPerSec: { encrypt: {ours, oursNonce, jose, joseCryptoKey, raw}, decrypt: {...} },
 *   costVsRaw: { encrypt, decrypt }          raw ops/s ÷ ours ops/s   (target ≤ 2)
 *   speedupVsJose: { encrypt, decrypt }      ours ops/s ÷ jose ops/s  (target ≥ 4)
 *   speedupVsJoseCryptoKey, nonceCostVsRaw, nonceSpeedupVsJose: { encrypt, decrypt },
 *   targets: { costVsRawMax, speedupVsJoseMin } }
 */
export async function runJweBench({ rounds = 15, ops = 2000, warmupOps = Math.max(1000, ops), clock = 'wall' } = {}) {
  const now = clocks[clock];
  if (!now) throw new Error(`clock must be one of ${Object.keys(clocks).join(', ')}`);
  const { encryptCompact, decryptCompact } = await loadOurs();
  const key = randomBytes(32);
  const cryptoKey = await webcrypto.subtle.importKey('raw', key, 'AES-GCM', false, ['encrypt', 'decrypt']);
  const keys = new Map([[KID, key]]);
  const resolveKey = (kid) => keys.get(kid);
  const body = jsonBody(BODY_BYTES);
  const header = { alg: 'dir', enc: 'A256GCM', kid: KID, cty: 'application/json' };

  // Fixtures to decrypt, one per contender, each made by that contender.
  const oursToken = encryptCompact(body, key, { kid: KID });
  const joseToken = await new jose.CompactEncrypt(body).setProtectedHeader(header).encrypt(key);
  const rawIv = randomBytes(12);
  const rawCipher = createCipheriv('aes-256-gcm', key, rawIv, { authTagLength: 16 });
  const rawCt = Buffer.concat([rawCipher.update(body), rawCipher.final()]);
  const rawTag = rawCipher.getAuthTag();

  // Per-message headers: a ring of distinct nonces, small enough to stay in cache like the single
  // token of the other contenders (the library never memoizes a header that carries a nonce).
  const NONCES = 64;
  const nonces = Array.from({ length: NONCES }, (_, i) => `n-${i.toString(36)}-${randomBytes(8).toString('base64url')}`);
  const nonceTokens = nonces.map((nonce) => encryptCompact(body, key, { kid: KID, nonce }));
  let nonceEnc = 0;
  let nonceDec = 0;

  // Sanity: everything opens and agrees before we time anything.
  if (!decryptCompact(oursToken, resolveKey).plaintext.equals(body)) throw new Error('ours: round trip failed');
  if (!decryptCompact(joseToken, resolveKey).plaintext.equals(body)) throw new Error('ours cannot open jose output');
  if (!Buffer.from((await jose.compactDecrypt(oursToken, key)).plaintext).equals(body)) throw new Error('jose cannot open ours');

  const contenders = {
    ours: {
      encrypt: () => encryptCompact(body, key, { kid: KID }),
      decrypt: () => decryptCompact(oursToken, resolveKey).plaintext,
    },
    oursNonce: {
      encrypt: () => encryptCompact(body, key, { kid: KID, nonce: nonces[nonceEnc++ & (NONCES - 1)] }),
      decrypt: () => decryptCompact(nonceTokens[nonceDec++ & (NONCES - 1)], resolveKey).plaintext,
    },
    jose: {
      async: true,
      encrypt: () => new jose.CompactEncrypt(body).setProtectedHeader(header).encrypt(key),
      decrypt: async () => (await jose.compactDecrypt(joseToken, key)).plaintext,
    },
    joseCryptoKey: {
      async: true,
      encrypt: () => new jose.CompactEncrypt(body).setProtectedHeader(header).encrypt(cryptoKey),
      decrypt: async () => (await jose.compactDecrypt(joseToken, cryptoKey)).plaintext,
    },
    raw: {
      encrypt: () => {
        const iv = rawIvFromPool();
        const c = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
        const ct = c.update(body);
        c.final();
        const tag = c.getAuthTag();
        return tag.length === 16 ? ct : iv;
      },
      decrypt: () => {
        const d = createDecipheriv('aes-256-gcm', key, rawIv, { authTagLength: 16 });
        d.setAuthTag(rawTag);
        const pt = d.update(rawCt);
        d.final();
        return pt;
      },
    },
  };
  // The floor's IVs: one randomFillSync per 1024 IVs, i.e. the cheapest correct way to get fresh
  // random 96-bit IVs (ours calls randomBytes(12) per message, ~2 µs more: see jwe-compact.ts).
  const rawIvPool = Buffer.allocUnsafeSlow(12 * 1024);
  let rawIvOffset = rawIvPool.length;
  function rawIvFromPool() {
    if (rawIvOffset + 12 > rawIvPool.length) {
      randomFillSync(rawIvPool);
      rawIvOffset = 0;
    }
    return rawIvPool.subarray(rawIvOffset, (rawIvOffset += 12));
  }
  const names = Object.keys(contenders);
  const tasksOf = (group) => group.flatMap((name) => ['encrypt', 'decrypt'].map((op) => ({ name, op })));
  // The fast synchronous contenders run back to back, so that the ratios between them compare
  // moments close in time; jose's (slower) batches run as a separate group.
  const groups = [tasksOf(names.filter((n) => !contenders[n].async)), tasksOf(names.filter((n) => contenders[n].async))];

  for (const { name, op } of groups.flat()) await time(contenders[name][op], !!contenders[name].async, warmupOps, now);

  const samples = Object.fromEntries(['encrypt', 'decrypt'].map((op) => [op, Object.fromEntries(names.map((n) => [n, []]))]));
  for (let r = 0; r < rounds; r++) {
    for (let g = 0; g < groups.length; g++) {
      const tasks = groups[(g + r) % groups.length]; // alternate which group goes first
      for (let k = 0; k < tasks.length; k++) {
        const { name, op } = tasks[(k + r) % tasks.length]; // rotate who goes first within the group
        samples[op][name].push(await time(contenders[name][op], !!contenders[name].async, ops, now));
      }
    }
  }

  const opsPerSec = {};
  for (const op of ['encrypt', 'decrypt']) {
    opsPerSec[op] = Object.fromEntries(names.map((n) => [n, median(samples[op][n])]));
  }
  // Ratios are paired: computed within each round (contenders measured moments apart), then the
  // median over rounds, which cancels slow drift in machine load better than a ratio of medians.
  const ratio = (f) => {
    const out = {};
    for (const op of ['encrypt', 'decrypt']) {
      const perRound = samples[op].ours.map((_, r) => f(Object.fromEntries(names.map((n) => [n, samples[op][n][r]]))));
      out[op] = median(perRound);
    }
    return out;
  };
  return {
    rounds,
    ops,
    clock,
    bodyBytes: BODY_BYTES,
    tokenChars: oursToken.length,
    node: process.version,
    opsPerSec,
    costVsRaw: ratio((o) => o.raw / o.ours),
    speedupVsJose: ratio((o) => o.ours / o.jose),
    speedupVsJoseCryptoKey: ratio((o) => o.ours / o.joseCryptoKey),
    nonceCostVsRaw: ratio((o) => o.raw / o.oursNonce),
    nonceSpeedupVsJose: ratio((o) => o.oursNonce / o.jose),
    targets: { costVsRawMax: 2, speedupVsJoseMin: 4 },
    sink,
  };
}

function fmtOps(n) {
  return Math.round(n).toLocaleString('en-US').padStart(11);
}

export function formatJweBench(res) {
  const lines = [];
  lines.push(
    `JWE dir+A256GCM, ${res.bodyBytes}-byte JSON body (token ${res.tokenChars} chars), ${res.rounds} rounds x ${res.ops} ops, ` +
      `${res.clock === 'cpu' ? 'process CPU time' : 'wall-clock time'}, node ${res.node}`,
  );
  lines.push('');
  lines.push('contender            encrypt ops/s   decrypt ops/s');
  const label = {
    ours: 'ours',
    oursNonce: 'ours (nonce/msg)',
    jose: 'jose (Uint8Array)',
    joseCryptoKey: 'jose (CryptoKey)',
    raw: 'raw aes-256-gcm',
  };
  for (const name of Object.keys(res.opsPerSec.encrypt)) {
    lines.push(`${label[name].padEnd(18)} ${fmtOps(res.opsPerSec.encrypt[name])}     ${fmtOps(res.opsPerSec.decrypt[name])}`);
  }
  lines.push('');
  const mark = (ok) => (ok ? 'ok ' : 'MISS');
  const row = (title, v, ok) =>
    `${title.padEnd(38)} ${v.encrypt.toFixed(2).padStart(6)}x ${mark(ok(v.encrypt))}  ${v.decrypt.toFixed(2).padStart(6)}x ${mark(ok(v.decrypt))}`;
  lines.push(`${'ratio'.padEnd(38)} ${'encrypt'.padStart(7)}       ${'decrypt'.padStart(7)}`);
  const cost = (x) => x <= res.targets.costVsRawMax;
  const speed = (x) => x >= res.targets.speedupVsJoseMin;
  lines.push(row('cost vs raw (raw/ours, target <= 2x)', res.costVsRaw, cost));
  lines.push(row('speedup vs jose (ours/jose, >= 4x)', res.speedupVsJose, speed));
  lines.push(row('speedup vs jose+CryptoKey (>= 4x)', res.speedupVsJoseCryptoKey, speed));
  lines.push(row('nonce/msg: cost vs raw (<= 2x)', res.nonceCostVsRaw, cost));
  lines.push(row('nonce/msg: speedup vs jose (>= 4x)', res.nonceSpeedupVsJose, speed));
  return lines.join('\n');
}

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

async function main() {
  const res = await runJweBench({ rounds: Number(arg('rounds', 15)), ops: Number(arg('ops', 2000)), clock: arg('clock', 'wall') });
  if (process.argv.includes('--json')) console.log(JSON.stringify(res, null, 2));
  else console.log(formatJweBench(res));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
