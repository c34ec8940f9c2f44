// HTTP benchmark: requests per second of POST /api/inventory (the inventory service's HTTP stack
// without its database, see bench/src/bench-app.ts), on Express and on Fastify, in these modes:
//   plain      no ServiceAuthModule (the signed requests' headers are ignored)
//   apikey     what one would write instead: a global guard comparing X-API-Key (timingSafeEqual)
//   passport   the other usual choice: @nestjs/passport's AuthGuard + passport-headerapikey
//   guarded    ServiceAuthModule: API key + RFC 9421 signature + digest + nonce, signed plaintext JSON
//   encrypted  the same + @EncryptedBody(): JWE request body, encrypted answer
//   redis      guarded, with the nonces in Redis (a redis-server this bench starts on 127.0.0.1)
//   hooks      (diagnostic, only with --modes …,hooks) no ServiceAuthModule, but no-op global guard,
//              interceptors and filter of the same kinds as the module's: Nest's machinery alone
// and, against each guarded server, strangers: POSTs of 64 KiB of garbage with an API key nobody holds,
// all refused (401); their server CPU per request is compared with plain's per 1 KiB request.
//
//   npm run build
//   node bench/http.bench.mjs [--quick] [--rounds 5] [--duration 5] [--connections 10] [--pipelining 1]
//                             [--warmup 3] [--adapters express,fastify] [--modes plain,apikey,passport,guarded,encrypted,redis]
//                             [--no-strangers] [--json]
//                             [--rate N]   (a fixed offered load of N req/s per run instead of as fast as the server answers: CPU per request
//                                           at equal load, a diagnostic; req/s ratios then only say whether each mode kept up)
//                             [--cpu-prof [--cpu-prof-modes guarded]]   (profiles the servers, prints a summary)
//                             [--baseline /other/checkout [--baseline-modes guarded]]   (that checkout's build, built, served
//                                           as guarded@before next to this one's, in the same rounds: before and after a change)
//   (each option also reads BENCH_<NAME>, e.g. BENCH_ROUNDS=3)
//
// Method
// - Every server is its own child process (bench/bench-server.mjs): load generator and server never
//   share an event loop. All of them start first and stay up, idle while another one is measured.
// - Load: autocannon's programmatic API in this process, 127.0.0.1, ~10 connections, pipelining 1, a
//   1024-byte JSON order (bench/common.mjs orderBody). Every request is signed in setupRequest with the
//   library's signRequest, with a fresh nonce (the guard refuses replays); for the encrypted mode the
//   order is encrypted with encryptCompact, then signed. The plain and guarded servers receive exactly
//   the same kind of signed plaintext request, so the client does the same work for both.
// - Before measuring, each server is checked: a signed request gets 200 and the expected answer
//   (decrypted and bound to the request's nonce in the encrypted mode); guarded servers refuse an
//   unsigned request and a replay with 401; the encrypted route refuses plaintext with 415.
// - Warm-up, then R rounds; in each round every (adapter, mode) runs D seconds, modes in rotating order.
//   Per mode: median requests/s over rounds (2xx only). Ratios are paired: guarded/plain within a round
//   (runs seconds apart), then the median over rounds. Non-2xx responses, errors and timeouts are counted
//   over all runs and must be 0.
// - Also recorded, as a cross-check that is less sensitive to a noisy machine: the server's CPU time per
//   request (process.cpuUsage in the child around each run), its event-loop utilisation (≈1 means the
//   server, not the load generator, was the bottleneck) and the load generator's own CPU use.

import { fork, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
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
  option,
  orderBody,
  spreadOf,
} from './common.mjs';

const BENCH_DIR = new URL('./', import.meta.url);
const ROOT = new URL('../', import.meta.url);
const PATH = '/api/inventory';
export const DEFAULT_MODES = ['plain', 'apikey', 'passport', 'guarded', 'encrypted', 'redis'];
/** Optional diagnostic mode (--modes plain,hooks,guarded,encrypted): see bench/src/bench-app.ts. */
const ALL_MODES = ['plain', 'hooks', 'apikey', 'passport', 'guarded', 'encrypted', 'redis'];
/** req/s of a mode against plain's. */
export const HTTP_TARGETS = {
  express: { guarded: 0.9, encrypted: 0.85 },
  fastify: { guarded: 0.75, encrypted: 0.6 },
};
/** req/s of a mode against another's (paired per round), on both adapters; no `min` = shown, not judged. */
export const PAIR_TARGETS = [
  { mode: 'guarded', vs: 'passport', min: 1.0, why: 'against what users would pick instead' },
  { mode: 'guarded', vs: 'apikey', why: 'against a hand-written API-key check' },
  { mode: 'redis', vs: 'guarded', min: 0.8, why: 'nonces in Redis (replicas) against in memory' },
  // With --baseline: the change itself, and the baseline against the same target.
  { mode: 'guarded', vs: 'guarded@before', why: 'this build against the baseline' },
  { mode: 'guarded@before', vs: 'passport', min: 1.0, why: 'the baseline against what users would pick instead' },
];
/** A stranger's refused 64 KiB POST may cost the server at most this many plain 1 KiB requests. */
export const STRANGER_TARGET = 1.0;
const STRANGER_BODY_BYTES = 64 * 1024;
const EXPECTED_MESSAGE = 'Inventory updated for product P123. New stock: 98';

/** Compiles bench/src (the Nest apps in TypeScript) into bench/dist when `app` is missing or older. */
export function ensureBenchAppBuilt({ force = false, app = 'bench-app' } = {}) {
  const src = fileURLToPath(new URL(`src/${app}.ts`, BENCH_DIR));
  const out = fileURLToPath(new URL(`dist/${app}.js`, BENCH_DIR));
  let stale = force;
  try {
    stale ||= statSync(out).mtimeMs < statSync(src).mtimeMs;
  } catch {
    stale = true;
  }
  if (!stale) return;
  const tsc = fileURLToPath(new URL('node_modules/typescript/bin/tsc', ROOT));
  execFileSync(process.execPath, [tsc, '-p', fileURLToPath(new URL('tsconfig.json', BENCH_DIR))], { stdio: 'inherit' });
}

// ------------------------------------------------------------------------------------------------
// Servers (child processes)

function startServer(mode, adapter, credential, { execArgv = [], redisUrl, logger, baseline } = {}) {
  const child = fork(fileURLToPath(new URL('bench-server.mjs', BENCH_DIR)), [modeOf(mode), adapter], {
    env: {
      ...process.env,
      BENCH_CREDENTIAL: JSON.stringify(credential),
      ...(isBaseline(mode) ? { BENCH_APP_DIR: join(baseline, 'bench') } : {}),
      ...(redisUrl ? { BENCH_REDIS_URL: redisUrl } : {}),
      ...(logger ? { BENCH_LOGGER: logger } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    execArgv,
  });
  const output = [];
  let mark = 0;
  let kept = '';
  const keep = (chunk) => {
    output.push(String(chunk));
    if (output.length > 1000) {
      output.shift();
      mark = Math.max(0, mark - 1);
    }
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const pending = new Map();
  let seq = 0;
  child.on('message', (msg) => {
    if (msg?.type === 'usage') {
      pending.get(msg.id)?.(msg);
      pending.delete(msg.id);
    }
  });
  const server = {
    mode,
    adapter,
    child,
    output: () => output.join(''),
    /** Output since the last markOutput(), and what keepUnexpectedOutput() kept before it. */
    outputSinceMark: () => kept + output.slice(mark).join(''),
    markOutput: () => (mark = output.length),
    /** Keeps the output since the last mark for outputSinceMark(), then marks (the strangers' refusals are logged, as they should be). */
    keepUnexpectedOutput: () => {
      kept += output.slice(mark).join('');
      mark = output.length;
    },
    usage() {
      const id = ++seq;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${adapter}/${mode} server did not answer a usage query`)), 10_000);
        pending.set(id, (msg) => {
          clearTimeout(timer);
          resolve(msg);
        });
        child.send({ type: 'usage', id });
      });
    },
    close() {
      return new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
        }, 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        try {
          child.send({ type: 'close' });
        } catch {
          child.kill('SIGTERM');
        }
      });
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${adapter}/${mode} server did not start in 60 s:\n${server.output()}`)), 60_000);
    child.once('exit', (code) => reject(new Error(`${adapter}/${mode} server exited (${code}) before listening:\n${server.output()}`)));
    child.on('message', (msg) => {
      if (msg?.type === 'ready') {
        clearTimeout(timer);
        server.port = msg.port;
        server.url = `http://127.0.0.1:${msg.port}`;
        resolve(server);
      }
    });
  });
}

/** A throwaway redis-server on 127.0.0.1 (no persistence), for the redis mode. */
async function startRedis() {
  const port = await new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
  const child = spawn(
    'redis-server',
    ['--save', '', '--appendonly', 'no', '--port', String(port), '--bind', '127.0.0.1', '--daemonize', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const failed = new Promise((_, reject) =>
    child.once('error', (err) =>
      reject(new Error(`redis-server could not start (${err.message}); install it or leave out the redis mode`)),
    ),
  );
  const pong = () =>
    new Promise((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port }, () => socket.write('PING\r\n'));
      socket.once('data', (d) => (socket.destroy(), resolve(String(d).startsWith('+PONG'))));
      socket.once('error', () => resolve(false));
    });
  const ready = (async () => {
    for (let i = 0; i < 200; i++) {
      if (await pong()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('redis-server did not answer PING in 10 s');
  })();
  await Promise.race([ready, failed]);
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', resolve);
        child.kill('SIGTERM');
      }),
  };
}

// ------------------------------------------------------------------------------------------------
// Requests

/**
 * Builds order-service's request to the inventory: `signed` = signed plaintext JSON, `encrypted` = the
 * JSON encrypted (JWE dir+A256GCM) then signed, with an encrypted answer asked for.
 * Returns { headers, body, nonce }.
 */
function requestFactory(lib, credential) {
  const { signRequest, encryptCompact, deriveKeys, JWE_MEDIA_TYPE } = lib;
  const keys = deriveKeys(Buffer.from(credential.secret, 'base64url'));
  const signing = { id: credential.id, apiKey: credential.apiKey, hmacKey: keys.hmacKey, audience: 'inventory-service' };
  const order = orderBody(BODY_BYTES);
  // Only @path and @query are signed from the URL, so one URL object serves every port.
  const url = new URL(`http://127.0.0.1${PATH}`);
  const make = (kind, nonce = randomBytes(16).toString('base64url')) => {
    let body = order;
    const headers = { 'content-type': 'application/json' };
    if (kind === 'encrypted') {
      body = Buffer.from(encryptCompact(order, keys.encryptionKey, { kid: credential.id, cty: 'application/json' }), 'latin1');
      headers['content-type'] = JWE_MEDIA_TYPE;
      headers.accept = JWE_MEDIA_TYPE;
    }
    Object.assign(headers, signRequest({ method: 'POST', url, headers, body }, signing, { nonce }));
    return { headers, body, nonce };
  };
  return { make, keys, order };
}

/** `guarded@before`: the guarded mode served by the --baseline checkout's build. */
const BASELINE_SUFFIX = '@before';
const isBaseline = (mode) => mode.endsWith(BASELINE_SUFFIX);
const modeOf = (mode) => (isBaseline(mode) ? mode.slice(0, -BASELINE_SUFFIX.length) : mode);
const requestKind = (mode) => (modeOf(mode) === 'encrypted' ? 'encrypted' : 'signed');
const isGuarded = (mode) => ['guarded', 'encrypted', 'redis'].includes(modeOf(mode));
const checksApiKey = (mode) => mode === 'apikey' || mode === 'passport';

async function post(url, headers, body) {
  const res = await fetch(url + PATH, { method: 'POST', headers, body, signal: AbortSignal.timeout(15_000) });
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text: await res.text() };
}

/** Fails loudly unless the server answers like the inventory would, and (guarded) refuses what it must. */
async function checkServer(server, lib, factory, credential) {
  const { openResponse, JWE_MEDIA_TYPE } = lib;
  const kind = requestKind(server.mode);
  const name = `${server.adapter}/${server.mode}`;
  const req = factory.make(kind);
  const ok = await post(server.url, req.headers, req.body);
  if (ok.status !== 200 && ok.status !== 201) throw new Error(`${name}: signed ${kind} request answered ${ok.status}: ${ok.text}`);
  let text = ok.text;
  if (kind === 'encrypted') {
    if (!ok.contentType.startsWith(JWE_MEDIA_TYPE)) throw new Error(`${name}: the answer is not encrypted (${ok.contentType})`);
    text = openResponse(ok.text, (kid) => (kid === credential.id ? factory.keys.encryptionKey : undefined), {
      nonce: req.nonce,
      status: ok.status,
    }).toString('utf8');
  }
  const json = JSON.parse(text);
  if (json.message !== EXPECTED_MESSAGE) throw new Error(`${name}: unexpected answer ${text}`);

  const guarded = isGuarded(server.mode);
  const replay = await post(server.url, req.headers, req.body);
  const unsigned = await post(server.url, { 'content-type': 'application/json' }, factory.order);
  if (guarded) {
    if (replay.status !== 401 || !replay.text.includes('nonce_replayed'))
      throw new Error(`${name}: a replay was not refused (${replay.status} ${replay.text})`);
    if (unsigned.status !== 401) throw new Error(`${name}: an unsigned request was not refused (${unsigned.status})`);
  } else if (checksApiKey(server.mode)) {
    // An API key alone: the replay passes, a request without the key does not.
    if (replay.status !== 200) throw new Error(`${name}: a repeated request was refused (${replay.status})`);
    if (unsigned.status !== 401) throw new Error(`${name}: a request without an API key was not refused (${unsigned.status})`);
  } else if (replay.status !== 200 || unsigned.status !== 200) {
    throw new Error(`${name}: plain server refused a request (${replay.status}, ${unsigned.status})`);
  }
  if (server.mode === 'encrypted') {
    const plaintext = factory.make('signed');
    const refused = await post(server.url, plaintext.headers, plaintext.body);
    if (refused.status !== 415) throw new Error(`${name}: a plaintext body was not refused (${refused.status} ${refused.text})`);
  }
  return { status: ok.status, answer: json };
}

// ------------------------------------------------------------------------------------------------
// Load

/**
 * Waits for the guarded server's line counting the strangers' refusals it did not log one by one
 * (logging.strangerRefusalsPerSecond): it comes when the second of the last refusals ends.
 */
function strangersCounted() {
  return new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 100));
}

/** A stranger's request: 64 KiB that are not JSON, an API key nobody holds. The same bytes every time. */
function strangerRequest() {
  return {
    headers: { 'content-type': 'application/json', 'x-api-key': `sk_${randomBytes(32).toString('base64url')}` },
    body: randomBytes(STRANGER_BODY_BYTES),
  };
}

async function loadRun(server, factory, { seconds, connections, pipelining, rate, stranger }) {
  const kind = requestKind(server.mode);
  const setupRequest = stranger
    ? (req) => ({ ...req, method: 'POST', path: PATH, headers: stranger.headers, body: stranger.body })
    : (req) => {
        const { headers, body } = factory.make(kind);
        return { ...req, method: 'POST', path: PATH, headers, body };
      };
  const u0 = await server.usage();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await autocannon({
    url: server.url,
    connections,
    pipelining,
    duration: seconds,
    // A fixed offered load (--rate): every server gets the same requests per second, below what the
    // slowest can serve, so that its CPU per request is not coloured by how busy the load generator is.
    ...(rate ? { overallRate: rate } : {}),
    requests: [{ method: 'POST', path: PATH, setupRequest }],
  });
  const wallUs = (performance.now() - t0) * 1000;
  const c = process.cpuUsage(c0);
  const u1 = await server.usage();
  const responses = result['2xx'] + result.non2xx;
  const elu = (u1.elu.active - u0.elu.active) / (u1.elu.active + u1.elu.idle - u0.elu.active - u0.elu.idle);
  return {
    rps: result['2xx'] / result.duration,
    responsesPerSecond: responses / result.duration,
    ok: result['2xx'],
    non2xx: result.non2xx,
    statusCodes: result.statusCodeStats,
    errors: result.errors,
    timeouts: result.timeouts,
    resets: result.resets,
    p50: result.latency.p50,
    p99: result.latency.p99,
    serverCpuUsPerReq: responses > 0 ? (u1.cpu - u0.cpu) / responses : NaN,
    serverGcUsPerReq: responses > 0 ? (u1.gcUs - u0.gcUs) / responses : NaN,
    serverHeapMb: u1.heapUsed / 2 ** 20,
    serverElu: elu,
    clientCpu: (c.user + c.system) / wallUs,
    serverRssMb: u1.rss / 2 ** 20,
    window: [u0.mono, u1.mono],
  };
}

// ------------------------------------------------------------------------------------------------

/**
 * Runs the HTTP benchmark. Returns { config, node, modes: { [adapter]: { [mode]: summary } },
 * ratios: { [adapter]: { [mode]: { rps: {median,min,max}, cpu: {median,min,max} } } }, targets, failures, runs }.
 */
export async function runHttpBench({
  rounds = 5,
  seconds = 5,
  warmupSeconds = 3,
  connections = 10,
  pipelining = 1,
  rate,
  adapters = ['express', 'fastify'],
  modes: modeList = DEFAULT_MODES,
  cpuProfDir,
  cpuProfModes = ['guarded'],
  strangers = true,
  baseline,
  baselineModes = ['guarded'],
  log = (line) => console.error(line),
} = {}) {
  const own = ALL_MODES.filter((m) => modeList.includes(m));
  if (!own.includes('plain')) throw new Error('the modes must include plain (every ratio is against it)');
  const withStrangers = strangers && own.includes('guarded');
  // The same run before and after a change: the baseline's modes next to this build's, in the same rounds.
  const MODES = baseline ? [...own, ...baselineModes.map((m) => `${m}${BASELINE_SUFFIX}`)] : own;
  ensureBenchAppBuilt();
  if (baseline) {
    execFileSync(process.execPath, ['-e', "import('./bench/http.bench.mjs').then((m) => m.ensureBenchAppBuilt())"], {
      cwd: baseline,
      stdio: 'inherit',
    });
  }
  const lib = await importLib();
  const credential = newCredential('order-bench-1');
  const factory = requestFactory(lib, credential);

  const servers = {};
  const quietServers = {};
  const all = [];
  let redis;
  const stopAll = async () => {
    await Promise.all(all.map((s) => s.close()));
    await redis?.stop();
  };
  const onSignal = () => {
    for (const s of all) s.child.kill('SIGTERM');
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  try {
    if (MODES.includes('redis')) {
      redis = await startRedis();
      log(`http: redis-server on ${redis.url}`);
    }
    log(`http: starting ${adapters.length * MODES.length} servers`);
    for (const adapter of adapters) {
      servers[adapter] = {};
      for (const mode of MODES) {
        const execArgv =
          cpuProfDir && cpuProfModes.includes(mode)
            ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`, `--cpu-prof-name=${adapter}-${mode}.cpuprofile`]
            : [];
        const server = await startServer(mode, adapter, credential, { execArgv, redisUrl: redis?.url, baseline });
        servers[adapter][mode] = server;
        all.push(server);
      }
      if (withStrangers) {
        quietServers[adapter] = await startServer('guarded', adapter, credential, { logger: 'error' });
        all.push(quietServers[adapter]);
      }
    }
    const samples = {};
    const strangerSamples = {};
    const quietStrangerSamples = {};
    const stranger = strangerRequest();
    for (const adapter of adapters) {
      samples[adapter] = {};
      strangerSamples[adapter] = [];
      quietStrangerSamples[adapter] = [];
      for (const mode of MODES) {
        const s = servers[adapter][mode];
        const check = await checkServer(s, lib, factory, credential);
        log(`http: ${adapter}/${mode} on :${s.port} answers ${check.status} ${JSON.stringify(check.answer)}`);
        samples[adapter][mode] = [];
        s.markOutput(); // the checks' expected refusals are logged; only what follows counts
      }
      // The checks also show the guard a stranger on the route: from then on strangers are refused early.
      if (quietServers[adapter]) await checkServer(quietServers[adapter], lib, factory, credential);
    }
    const load = { connections, pipelining, rate };
    if (warmupSeconds > 0) {
      log(`http: warm-up, ${warmupSeconds} s per server`);
      for (const adapter of adapters)
        for (const mode of MODES) await loadRun(servers[adapter][mode], factory, { ...load, seconds: warmupSeconds });
      if (withStrangers) {
        for (const adapter of adapters) {
          servers[adapter].guarded.keepUnexpectedOutput();
          await loadRun(servers[adapter].guarded, factory, { ...load, seconds: warmupSeconds, stranger });
          await strangersCounted();
          servers[adapter].guarded.markOutput();
          await loadRun(quietServers[adapter], factory, { ...load, seconds: warmupSeconds, stranger });
        }
      }
    }
    const runs = [];
    for (let r = 0; r < rounds; r++) {
      const adapterOrder = r % 2 === 0 ? adapters : [...adapters].reverse();
      for (const adapter of adapterOrder) {
        for (let k = 0; k < MODES.length; k++) {
          const mode = MODES[(k + r) % MODES.length];
          const run = await loadRun(servers[adapter][mode], factory, { ...load, seconds });
          samples[adapter][mode].push(run);
          runs.push({ round: r + 1, adapter, mode, ...run, window: undefined });
          log(
            `http: round ${r + 1}/${rounds} ${adapter.padEnd(7)} ${mode.padEnd(9)} ${fmtInt(run.rps).padStart(7)} req/s  ` +
              `p50 ${run.p50} ms  server ${run.serverCpuUsPerReq.toFixed(0)} µs/req (GC ${run.serverGcUsPerReq.toFixed(0)}, ELU ${run.serverElu.toFixed(2)}, ` +
              `heap ${run.serverHeapMb.toFixed(0)} MiB)  client CPU ${(100 * run.clientCpu).toFixed(0)}%` +
              (run.non2xx || run.errors || run.timeouts
                ? `  NON-2XX ${run.non2xx} ${JSON.stringify(run.statusCodes)} errors ${run.errors} timeouts ${run.timeouts}`
                : ''),
          );
        }
        if (withStrangers) {
          const target = servers[adapter].guarded;
          target.keepUnexpectedOutput();
          const run = await loadRun(target, factory, { ...load, seconds, stranger });
          await strangersCounted();
          target.markOutput();
          strangerSamples[adapter].push(run);
          // The same against a guarded server whose logger leaves out warnings: the refusal without its log line.
          const quiet = await loadRun(quietServers[adapter], factory, { ...load, seconds, stranger });
          quietStrangerSamples[adapter].push(quiet);
          log(
            `http: round ${r + 1}/${rounds} ${adapter.padEnd(7)} ${'strangers'.padEnd(9)} ${fmtInt(run.responsesPerSecond).padStart(7)} refusals/s  ` +
              `server ${run.serverCpuUsPerReq.toFixed(0)} µs/req (ELU ${run.serverElu.toFixed(2)}), without the log line ${quiet.serverCpuUsPerReq.toFixed(0)} µs/req  ` +
              `statuses ${JSON.stringify(run.statusCodes)} ${JSON.stringify(quiet.statusCodes)}`,
          );
        }
      }
    }

    const modes = {};
    const ratios = {};
    const pairs = {};
    const strangerResults = {};
    const failures = [];
    for (const adapter of adapters) {
      modes[adapter] = {};
      for (const mode of MODES) {
        const xs = samples[adapter][mode];
        const rps = xs.map((x) => x.rps);
        const sum = (k) => xs.reduce((a, x) => a + x[k], 0);
        modes[adapter][mode] = {
          rps: median(rps),
          rpsMin: Math.min(...rps),
          rpsMax: Math.max(...rps),
          p50: median(xs.map((x) => x.p50)),
          p99: median(xs.map((x) => x.p99)),
          serverCpuUsPerReq: median(xs.map((x) => x.serverCpuUsPerReq)),
          serverCpu: spreadOf(xs.map((x) => x.serverCpuUsPerReq)),
          serverGcUsPerReq: median(xs.map((x) => x.serverGcUsPerReq)),
          serverElu: median(xs.map((x) => x.serverElu)),
          clientCpu: median(xs.map((x) => x.clientCpu)),
          serverRssMb: Math.max(...xs.map((x) => x.serverRssMb)),
          requests: sum('ok'),
          non2xx: sum('non2xx'),
          errors: sum('errors'),
          timeouts: sum('timeouts'),
        };
        const m = modes[adapter][mode];
        if (m.non2xx || m.errors || m.timeouts) {
          failures.push(`${adapter}/${mode}: ${m.non2xx} non-2xx, ${m.errors} errors, ${m.timeouts} timeouts`);
        }
      }
      const paired = (mode, f) => xsRatio(samples[adapter][mode], samples[adapter].plain, f);
      ratios[adapter] = {};
      for (const mode of MODES.filter((m) => m !== 'plain')) {
        ratios[adapter][mode] = {
          rps: paired(mode, (a, p) => a.rps / p.rps),
          // plain's CPU time per request ÷ the mode's: the throughput ratio a CPU-bound server would show.
          cpu: paired(mode, (a, p) => p.serverCpuUsPerReq / a.serverCpuUsPerReq),
        };
      }
      for (const pair of PAIR_TARGETS.filter((p) => MODES.includes(p.mode) && MODES.includes(p.vs))) {
        const xs = samples[adapter][pair.mode];
        const ys = samples[adapter][pair.vs];
        (pairs[adapter] ??= {})[`${pair.mode}/${pair.vs}`] = {
          ...pair,
          rps: xsRatio(xs, ys, (a, b) => a.rps / b.rps),
          cpu: xsRatio(xs, ys, (a, b) => b.serverCpuUsPerReq / a.serverCpuUsPerReq),
        };
      }
      if (withStrangers) {
        const xs = strangerSamples[adapter];
        const statusCodes = {};
        for (const x of xs)
          for (const [code, { count }] of Object.entries(x.statusCodes ?? {})) statusCodes[code] = (statusCodes[code] ?? 0) + count;
        const quiet = quietStrangerSamples[adapter];
        for (const x of quiet)
          for (const [code, { count }] of Object.entries(x.statusCodes ?? {}))
            if (code !== '401') statusCodes[code] = (statusCodes[code] ?? 0) + count;
        strangerResults[adapter] = {
          bodyBytes: STRANGER_BODY_BYTES,
          refusalsPerSecond: median(xs.map((x) => x.responsesPerSecond)),
          serverCpuUsPerReq: median(xs.map((x) => x.serverCpuUsPerReq)),
          // the stranger's cost in plain 1 KiB requests, paired per round
          vsPlainCpu: xsRatio(xs, samples[adapter].plain, (a, p) => a.serverCpuUsPerReq / p.serverCpuUsPerReq),
          withoutLogLine: {
            serverCpuUsPerReq: median(quiet.map((x) => x.serverCpuUsPerReq)),
            vsPlainCpu: xsRatio(quiet, samples[adapter].plain, (a, p) => a.serverCpuUsPerReq / p.serverCpuUsPerReq),
          },
          statusCodes,
          errors: [...xs, ...quiet].reduce((a, x) => a + x.errors + x.timeouts, 0),
        };
        const other = Object.keys(statusCodes).filter((code) => code !== '401');
        if (other.length || strangerResults[adapter].errors)
          failures.push(
            `${adapter}/strangers: answers other than 401 ${JSON.stringify(statusCodes)}, ${strangerResults[adapter].errors} errors`,
          );
      }
    }
    // Where the rounds disagree: a server whose CPU per request moved between rounds, a judged ratio
    // whose rounds fall on both sides of its target or spread wide. Such a verdict is the run's, not the code's.
    const unstable = [];
    const flag = (what, spread, target) => {
      const why = disagreement(spread, { target });
      if (why) unstable.push({ what, why, median: spread.median });
    };
    for (const adapter of adapters) {
      for (const mode of MODES) flag(`${adapter}/${mode} server µs/req`, modes[adapter][mode].serverCpu);
      for (const mode of MODES.filter((m) => m !== 'plain'))
        flag(`${adapter} ${mode}/plain req/s`, ratios[adapter][mode].rps, rate ? undefined : HTTP_TARGETS[adapter][mode]);
      for (const [name, p] of Object.entries(pairs[adapter] ?? {})) flag(`${adapter} ${name} CPU time`, p.cpu, rate ? undefined : p.min);
      const st = strangerResults[adapter];
      if (st) {
        flag(`${adapter} 64 KiB stranger / plain CPU, logged`, st.vsPlainCpu, STRANGER_TARGET);
        flag(`${adapter} 64 KiB stranger / plain CPU, not logged`, st.withoutLogLine.vsPlainCpu, STRANGER_TARGET);
      }
    }
    for (const s of all) {
      const out = s.outputSinceMark();
      if (out.trim()) failures.push(`${s.adapter}/${s.mode} logged during the runs:\n${out.slice(-2000)}`);
    }
    const profiles = cpuProfDir
      ? Object.fromEntries(
          adapters.map((adapter) => [
            adapter,
            MODES.filter((mode) => cpuProfModes.includes(mode)).map((mode) => ({
              label: mode,
              file: join(cpuProfDir, `${adapter}-${mode}.cpuprofile`),
              windows: samples[adapter][mode].map((x) => x.window),
              requests: samples[adapter][mode].reduce((a, x) => a + x.ok + x.non2xx, 0),
            })),
          ]),
        )
      : undefined;
    return {
      config: { rounds, seconds, warmupSeconds, connections, pipelining, rate, adapters, modes: MODES, bodyBytes: BODY_BYTES },
      profiles,
      node: process.version,
      modes,
      ratios,
      pairs,
      strangers: withStrangers ? strangerResults : undefined,
      unstable,
      // At a fixed offered load every mode that keeps up gives the same req/s: the req/s targets do not apply.
      targets: rate ? Object.fromEntries(adapters.map((a) => [a, {}])) : HTTP_TARGETS,
      failures,
      runs,
    };
  } finally {
    process.removeListener('SIGINT', onSignal);
    await stopAll();
  }
}

/** Per-round ratios f(x, y) of two modes' runs in the same rounds, with their spread (see spreadOf). */
function xsRatio(xs, ys, f) {
  return spreadOf(xs.map((x, i) => f(x, ys[i])));
}

export function formatHttpBench(res) {
  const c = res.config;
  const lines = [];
  lines.push(
    `HTTP POST ${PATH}, ${c.bodyBytes}-byte JSON order, ${c.rounds} rounds x ${c.seconds} s per mode, ` +
      `${c.connections} connections, pipelining ${c.pipelining}${c.rate ? `, a fixed ${c.rate} req/s offered` : ''}, node ${res.node}`,
  );
  lines.push('');
  lines.push(
    'adapter  mode        median req/s (min-max)     p50 ms  p99 ms  server µs/req (IQR)  of it GC  server ELU  client CPU  non-2xx',
  );
  for (const adapter of c.adapters) {
    for (const mode of c.modes) {
      const m = res.modes[adapter][mode];
      lines.push(
        `${adapter.padEnd(8)} ${mode.padEnd(10)} ${fmtInt(m.rps).padStart(8)} (${fmtInt(m.rpsMin)}-${fmtInt(m.rpsMax)})`.padEnd(46) +
          `${String(m.p50).padStart(6)}  ${String(m.p99).padStart(6)}  ` +
          `${`${m.serverCpu.median.toFixed(0)} (${m.serverCpu.q1.toFixed(0)}-${m.serverCpu.q3.toFixed(0)})`.padStart(19)}  ${m.serverGcUsPerReq.toFixed(0).padStart(8)}  ` +
          `${m.serverElu.toFixed(2).padStart(9)}  ${(100 * m.clientCpu).toFixed(0).padStart(9)}%  ${String(m.non2xx + m.errors + m.timeouts).padStart(7)}`,
      );
    }
  }
  const judged = (s, target, atLeast = true) =>
    target === undefined
      ? '(shown)'
      : `${atLeast ? '>=' : '<='} ${target.toFixed(2)}x ${(atLeast ? s.median >= target : s.median <= target) ? 'PASS' : 'MISS'}`;
  lines.push('');
  lines.push('ratio vs plain, median of per-round ratios (IQR, range)');
  lines.push(
    'adapter  ratio             req/s ratio (judged)                     target          CPU-time ratio (plain µs/req ÷ mode µs/req)',
  );
  for (const adapter of c.adapters) {
    for (const mode of c.modes.filter((m) => m !== 'plain')) {
      const { rps: r, cpu } = res.ratios[adapter][mode];
      lines.push(
        `${adapter.padEnd(8)} ${`${mode}/plain`.padEnd(17)} ${fmtSpread(r).padEnd(40)} ${judged(r, res.targets[adapter][mode]).padEnd(15)} ${fmtSpread(cpu)}`,
      );
    }
  }
  if (res.pairs && Object.keys(res.pairs).length) {
    lines.push('');
    lines.push('ratio between modes, median of per-round ratios (IQR, range)');
    lines.push('adapter  ratio             CPU-time ratio (judged)                  target          req/s ratio');
    for (const adapter of c.adapters) {
      for (const [name, p] of Object.entries(res.pairs[adapter] ?? {})) {
        lines.push(
          `${adapter.padEnd(8)} ${name.padEnd(17)} ${fmtSpread(p.cpu).padEnd(40)} ${judged(p.cpu, c.rate ? undefined : p.min).padEnd(15)} ${fmtSpread(p.rps)}`,
        );
      }
    }
  }
  if (res.strangers) {
    lines.push('');
    lines.push(`strangers: POST of ${STRANGER_BODY_BYTES / 1024} KiB garbage with an unknown API key, against the guarded server`);
    lines.push('adapter  log line    refusals/s  server µs/req  in plain 1 KiB requests (paired: IQR, range)     target        statuses');
    for (const adapter of c.adapters) {
      const st = res.strangers[adapter];
      if (!st) continue;
      lines.push(
        `${adapter.padEnd(8)} ${'default'.padEnd(10)} ${fmtInt(st.refusalsPerSecond).padStart(10)}  ${st.serverCpuUsPerReq.toFixed(0).padStart(13)}  ` +
          `${fmtSpread(st.vsPlainCpu).padEnd(48)} ${judged(st.vsPlainCpu, STRANGER_TARGET, false).padEnd(13)} ${JSON.stringify(st.statusCodes)}`,
      );
      const q = st.withoutLogLine;
      lines.push(
        `${adapter.padEnd(8)} ${'off'.padEnd(10)} ${''.padStart(10)}  ${q.serverCpuUsPerReq.toFixed(0).padStart(13)}  ` +
          `${fmtSpread(q.vsPlainCpu).padEnd(48)} ${judged(q.vsPlainCpu, STRANGER_TARGET, false)}`,
      );
    }
    lines.push(
      '("default": refusals logged at warn by Nest\'s ConsoleLogger, piped to this process, as the module does by default: ' +
        '10 lines per reason and second, the others counted in one line; "off": a logger without warnings)',
    );
  }
  lines.push('');
  for (const u of res.unstable ?? []) lines.push(`UNSTABLE: rounds disagree on ${u.what} (${u.why})`);
  lines.push(
    res.failures.length === 0 ? 'non-2xx responses (strangers aside), errors, timeouts: 0' : `FAILURES:\n${res.failures.join('\n')}`,
  );
  return lines.join('\n');
}

export function httpOptionsFromArgs(quick = flagOption('quick')) {
  const cpuProf = flagOption('cpu-prof');
  return {
    rounds: numberOption('rounds', quick ? 2 : 5),
    seconds: numberOption('duration', quick ? 2 : 5),
    warmupSeconds: numberOption('warmup', quick ? 1 : 3),
    connections: numberOption('connections', 10),
    pipelining: numberOption('pipelining', 1),
    rate: numberOption('rate', 0) || undefined,
    adapters: String(option('adapters', 'express,fastify')).split(','),
    modes: String(option('modes', DEFAULT_MODES.join(','))).split(','),
    cpuProfDir: cpuProf ? fileURLToPath(new URL(`profiles/${new Date().toISOString().replace(/[:.]/g, '-')}/`, BENCH_DIR)) : undefined,
    cpuProfModes: String(option('cpu-prof-modes', 'guarded')).split(','),
    strangers: !flagOption('no-strangers'),
    baseline: typeof option('baseline', undefined) === 'string' ? resolve(option('baseline')) : undefined,
    baselineModes: String(option('baseline-modes', 'guarded')).split(','),
  };
}

async function main() {
  const options = httpOptionsFromArgs();
  if (options.cpuProfDir) mkdirSync(options.cpuProfDir, { recursive: true });
  const res = await runHttpBench(options);
  if (flagOption('json')) console.log(JSON.stringify(res, null, 2));
  else console.log(formatHttpBench(res));
  if (res.profiles) {
    // Profiles are written when the servers exit (runHttpBench has stopped them).
    const { compareProfiles } = await import('./profile-summary.mjs');
    console.log(`\nServer CPU profiles (${options.cpuProfDir}), measured runs only:`);
    for (const [adapter, entries] of Object.entries(res.profiles)) {
      console.log(`\n== ${adapter} ==\n${compareProfiles(entries, { top: numberOption('top', 30) })}`);
    }
  }
  if (res.failures.length) process.exitCode = 1;
}

if (isMain(import.meta.url)) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
