// Diagnostic: what refusing a 64 KiB POST costs a server that does nothing else, against what serving a
// 1 KiB order costs it, so that the strangers' figures of http.bench.mjs can be read against a floor.
// A refused request's body still crosses the connection: Node reads it and throws it away, so that the
// connection stays usable (closing it instead risks a reset that loses the 401). That reading, and the
// kernel's work to move 64 KiB, are what no guard can save.
//
//   node bench/stranger-floor.bench.mjs [--rounds 5] [--duration 4] [--connections 10] [--json]
//
// Servers, each in its own child process, 127.0.0.1:
//   node-refuse    node:http, answers 401 with a fixed JSON body as soon as the head is parsed
//   node-serve     node:http, reads the 1 KiB JSON body, parses it, answers 200 with the inventory's answer
//   express-refuse Express 5, a first middleware answering 401 with res.status().json()
//   express-serve  Express 5, express.json() and a route answering with res.json()
// Load: autocannon, 10 connections, the same requests as the http bench's strangers (64 KiB random bytes,
// an unknown API key) and plain mode (a 1 KiB order). Rounds rotate the order; server CPU time per
// request comes from process.cpuUsage() in the child around each run; ratios are paired per round.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { flagOption, isMain, median, numberOption, orderBody } from './common.mjs';

const require = createRequire(import.meta.url);
const PATH = '/api/inventory';
const REFUSAL = JSON.stringify({ statusCode: 401, error: 'Unauthorized', reason: 'api_key_invalid', message: 'The API key is not valid' });
const KINDS = ['node-refuse', 'node-serve', 'express-refuse', 'express-serve'];

/** The child: one server of `kind`, answering usage queries over IPC. */
function serve(kind) {
  let handler;
  if (kind.startsWith('express')) {
    const express = require('express');
    const app = express();
    if (kind === 'express-refuse') app.use((req, res) => res.status(401).json(JSON.parse(REFUSAL)));
    app.use(express.json());
    app.post(PATH, (req, res) => res.json(answerOf(req.body)));
    handler = app;
  } else if (kind === 'node-refuse') {
    handler = (req, res) => {
      res.writeHead(401, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(REFUSAL) });
      res.end(REFUSAL);
    };
  } else {
    handler = (req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const out = JSON.stringify(answerOf(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(out) });
        res.end(out);
      });
    };
  }
  const server = createServer(handler);
  server.listen(0, '127.0.0.1', () => process.send({ type: 'ready', port: server.address().port }));
  process.on('message', (msg) => {
    if (msg?.type === 'usage') {
      const { user, system } = process.cpuUsage();
      process.send({ type: 'usage', id: msg.id, cpu: user + system });
    } else if (msg?.type === 'close') server.close(() => process.exit(0));
  });
  process.on('disconnect', () => process.exit(0));
}

function answerOf(order) {
  return { message: 'Inventory updated for product P123. New stock: 98', productId: order?.productId, newStock: 98 };
}

async function start(kind) {
  const child = fork(fileURLToPath(import.meta.url), ['--serve', kind], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${kind} exited (${code})`)));
    child.on('message', (m) => m?.type === 'ready' && resolve(m.port));
  });
  let seq = 0;
  const usage = () =>
    new Promise((resolve) => {
      const id = ++seq;
      const on = (m) => {
        if (m?.type === 'usage' && m.id === id) {
          child.off('message', on);
          resolve(m.cpu);
        }
      };
      child.on('message', on);
      child.send({ type: 'usage', id });
    });
  return { kind, port, usage, close: () => child.send({ type: 'close' }) };
}

export async function runStrangerFloorBench({ rounds = 5, seconds = 4, connections = 10 } = {}) {
  const autocannon = require('autocannon');
  const stranger = {
    headers: { 'content-type': 'application/json', 'x-api-key': `sk_${randomBytes(32).toString('base64url')}` },
    body: randomBytes(64 * 1024),
  };
  const order = { headers: { 'content-type': 'application/json' }, body: orderBody() };
  const servers = [];
  for (const kind of KINDS) servers.push(await start(kind));
  const run = (server, duration) => {
    const { headers, body } = server.kind.endsWith('refuse') ? stranger : order;
    return new Promise((resolve, reject) =>
      autocannon(
        {
          url: `http://127.0.0.1:${server.port}`,
          connections,
          duration,
          requests: [
            { method: 'POST', path: PATH, setupRequest: (req) => ({ ...req, method: 'POST', path: PATH, headers: { ...headers }, body }) },
          ],
        },
        (err, res) => (err ? reject(err) : resolve(res)),
      ),
    );
  };
  const samples = Object.fromEntries(KINDS.map((k) => [k, []]));
  try {
    for (const s of servers) await run(s, 1);
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < servers.length; k++) {
        const s = servers[(k + r) % servers.length];
        const c0 = await s.usage();
        const res = await run(s, seconds);
        const c1 = await s.usage();
        const answers = res['2xx'] + res.non2xx;
        const expected = s.kind.endsWith('refuse') ? res.statusCodeStats?.['401']?.count : res['2xx'];
        if (expected !== answers || res.errors || res.timeouts)
          throw new Error(`${s.kind}: unexpected answers ${JSON.stringify(res.statusCodeStats)}, ${res.errors} errors`);
        samples[s.kind].push({ cpuUsPerReq: (c1 - c0) / answers, rps: answers / res.duration });
      }
    }
  } finally {
    for (const s of servers) s.close();
  }
  const paired = (a, b) => median(samples[a].map((x, i) => x.cpuUsPerReq / samples[b][i].cpuUsPerReq));
  return {
    rounds,
    seconds,
    connections,
    servers: Object.fromEntries(
      KINDS.map((k) => [k, { cpuUsPerReq: median(samples[k].map((x) => x.cpuUsPerReq)), rps: median(samples[k].map((x) => x.rps)) }]),
    ),
    ratios: { node: paired('node-refuse', 'node-serve'), express: paired('express-refuse', 'express-serve') },
  };
}

export function formatStrangerFloorBench(res) {
  const lines = [
    `64 KiB POST refused vs 1 KiB order served, bare servers; ${res.rounds} rounds x ${res.seconds} s, ${res.connections} connections`,
    '',
  ];
  lines.push('server           server µs/req  req/s');
  for (const [kind, s] of Object.entries(res.servers))
    lines.push(`${kind.padEnd(16)} ${s.cpuUsPerReq.toFixed(1).padStart(13)}  ${Math.round(s.rps)}`);
  lines.push('');
  lines.push(
    `refusing 64 KiB / serving 1 KiB, server CPU (median of paired rounds): node:http ${res.ratios.node.toFixed(2)}x, Express ${res.ratios.express.toFixed(2)}x`,
  );
  return lines.join('\n');
}

const serveAt = process.argv.indexOf('--serve');
if (serveAt >= 0) serve(process.argv[serveAt + 1]);
else if (isMain(import.meta.url)) {
  const res = await runStrangerFloorBench({
    rounds: numberOption('rounds', 5),
    seconds: numberOption('duration', 4),
    connections: numberOption('connections', 10),
  });
  console.log(flagOption('json') ? JSON.stringify(res, null, 2) : formatStrangerFloorBench(res));
}
