// Helpers shared by verify.bench.mjs, http.bench.mjs and run.mjs (jwe.bench.mjs predates them and
// keeps its own copies).
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { pathToFileURL } from 'node:url';

/** The built library's ES modules (npm run build). Imported by path so a missing build gives a clear message. */
export const LIB_DIST = new URL('../libs/service-auth/dist/esm/', import.meta.url);

/** Default: the `nest-service-auth/core` entry (the protocol, no Nest); a path below dist/esm for internals. */
export async function importLib(relative = 'core.js') {
  const url = new URL(relative, LIB_DIST);
  try {
    return await import(url.href);
  } catch (err) {
    throw new Error(`cannot load ${url.pathname}; build the library first (npm run build). ${err.message}`, { cause: err });
  }
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export const BODY_BYTES = 1024;

/**
 * The order the benches send: the inventory's StockUpdateDto ({ productId, quantity }) with a `notes`
 * field that brings the JSON to exactly `size` bytes.
 */
export function orderBody(size = BODY_BYTES) {
  const doc = { productId: 'P123', quantity: 2, notes: '' };
  doc.notes = 'n'.repeat(size - Buffer.byteLength(JSON.stringify(doc)));
  const bytes = Buffer.from(JSON.stringify(doc), 'utf8');
  if (bytes.length !== size) throw new Error(`body is ${bytes.length} bytes, wanted ${size}`);
  return bytes;
}

/** A credential made the way the README says (sk_ + random API key, 32 random bytes of secret). */
export function newCredential(id) {
  return { id, apiKey: `sk_${randomBytes(32).toString('base64url')}`, secret: randomBytes(32).toString('base64url') };
}

/** `--name value` / `--name=value` / `--flag` from argv, else the environment variable, else fallback. */
export function option(name, fallback, { argv = process.argv, env = process.env } = {}) {
  const flag = `--${name}`;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === flag) {
      const next = argv[i + 1];
      return next === undefined || next.startsWith('--') ? true : next;
    }
    if (argv[i].startsWith(`${flag}=`)) return argv[i].slice(flag.length + 1);
  }
  const envName = `BENCH_${name.toUpperCase().replace(/-/g, '_')}`;
  if (env[envName] !== undefined && env[envName] !== '') return env[envName];
  return fallback;
}

export const numberOption = (name, fallback) => {
  const v = option(name, undefined);
  return v === undefined || v === true ? fallback : Number(v);
};

export const flagOption = (name) => {
  const v = option(name, false);
  return v === true || v === '1' || v === 'true';
};

/** True when the module at `metaUrl` is the script node was started with. */
export const isMain = (metaUrl) => !!process.argv[1] && metaUrl === pathToFileURL(process.argv[1]).href;

export const fmtInt = (n) => Math.round(n).toLocaleString('en-US');
export const fmtRatio = (x) => `${x.toFixed(2)}x`;
export const mark = (ok) => (ok ? 'PASS' : 'MISS');

/** A TCP port free on 127.0.0.1 right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The q-quantile of xs (0 ≤ q ≤ 1), interpolated between the two nearest values. */
export function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const at = (s.length - 1) * q;
  const lo = Math.floor(at);
  return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (at - lo);
}

/** Per-round values summed up: median, range and interquartile range (the middle half of the rounds). */
export function spreadOf(xs) {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), q1: quantile(xs, 0.25), q3: quantile(xs, 0.75), n: xs.length };
}

/**
 * Rounds disagree when their middle half spreads wider than `maxRelativeIqr` of the median, or lies on
 * both sides of the target (some rounds pass, some miss: the verdict is a coin toss). Returns the reason
 * as a sentence, or undefined when the rounds agree.
 */
export const MAX_RELATIVE_IQR = 0.15;
export function disagreement(s, { target, maxRelativeIqr = MAX_RELATIVE_IQR } = {}) {
  const iqr = s.q3 - s.q1;
  const relative = Math.abs(iqr / s.median);
  const reasons = [];
  if (!(relative <= maxRelativeIqr))
    reasons.push(`IQR ${iqr.toFixed(2)} = ${(100 * relative).toFixed(0)}% of the median > ${100 * maxRelativeIqr}%`);
  if (target !== undefined && s.q1 < target && target < s.q3)
    reasons.push(`the middle half of the rounds (${s.q1.toFixed(2)}-${s.q3.toFixed(2)}) straddles the target ${target}`);
  return reasons.length ? reasons.join('; ') : undefined;
}

/** "0.97x (IQR 0.91-1.02, range 0.80-1.10)" */
export const fmtSpread = (s, digits = 2, unit = 'x') =>
  `${s.median.toFixed(digits)}${unit} (IQR ${s.q1.toFixed(digits)}-${s.q3.toFixed(digits)}, range ${s.min.toFixed(digits)}-${s.max.toFixed(digits)})`;
