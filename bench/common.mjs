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
