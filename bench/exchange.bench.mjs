// Diagnostic: the library's own server-side work for one encrypted exchange, without Nest, an HTTP
// adapter or a socket: open the JWE body (EncryptedExchange.begin) and seal the answer (the sealer it
// hands to EncryptedExchangeInterceptor). What the
// inject and HTTP benches add on top is the frameworks' work, which is the same for every build of
// the library; on a shared machine their request-level numbers move by more than this path costs, so
// a change to this path is measured here, builds side by side in one process.
//
//   npm run build
//   node bench/exchange.bench.mjs [--rounds 21] [--ops 3000] [--builds /path/to/checkout-a,/path/to/checkout-b]
//
// --builds: repository roots whose libs/service-auth/dist is built (default: this one). Their
// contenders take turns in rotating order, round after round; each gets its median µs per exchange
// (CPU time of this process), and every build after the first its paired median difference from the first.
// The request: the HTTP bench's 1 KiB order as a JWE; the answer: a small JSON object, sealed with
// the request's nonce and status.

import { randomBytes } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BODY_BYTES, isMain, median, numberOption, option, orderBody } from './common.mjs';

const cpuUs = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

/** One contender: the exchange of the build at `root`, with a key of its own. */
async function contender(root) {
  const dist = pathToFileURL(`${root}/libs/service-auth/dist/esm/`);
  const load = (path) => import(new URL(path, dist).href);
  const { EncryptedExchange } = await load('nest/encryption/encrypted-exchange.js');
  const { encryptCompact } = await load('crypto/jwe-compact.js');
  const key = { id: 'order-bench-1', callerId: 'order-service', encryptionKey: randomBytes(32) };
  const exchange = new EncryptedExchange({ ring: { findCallerKey: () => key } }, { maxBodyBytes: 1024 * 1024, encryption: 'optional' });
  const body = Buffer.from(encryptCompact(orderBody(BODY_BYTES), key.encryptionKey, { kid: key.id, cty: 'application/json' }), 'latin1');
  const headers = { 'content-type': 'application/jose', accept: 'application/jose' };
  let n = 0;
  const one = () => {
    const req = { headers, rawBody: body };
    const res = new ServerResponse(new IncomingMessage(null));
    res.header = (name, value) => res.setHeader(name, value);
    const caller = { id: key.callerId, keyId: key.id, nonce: `bench-nonce-${n++}`, created: 0 };
    const seal = exchange.begin(req, res, 'optional', { caller, key }, false);
    return seal({ productId: req.body.productId, reserved: req.body.quantity }, 201).body;
  };
  return { root, one, samples: [] };
}

export async function runExchangeBench({ rounds = 21, ops = 3000, builds = [fileURLToPath(new URL('..', import.meta.url))] } = {}) {
  const contenders = [];
  for (const root of builds) contenders.push(await contender(root.replace(/\/$/, '')));
  let sink = 0;
  const time = (c, n) => {
    const t0 = cpuUs();
    for (let i = 0; i < n; i++) sink ^= c.one().length;
    return (cpuUs() - t0) / n;
  };
  for (const c of contenders) time(c, 5000);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < contenders.length; k++) {
      const c = contenders[(k + r) % contenders.length];
      c.samples.push(time(c, ops));
    }
  }
  const first = contenders[0];
  return {
    rounds,
    ops,
    sink,
    builds: contenders.map((c) => ({
      root: c.root,
      usPerExchange: median(c.samples),
      ...(c === first ? {} : { pairedDifferenceUs: median(c.samples.map((v, i) => v - first.samples[i])) }),
    })),
  };
}

async function main() {
  const builds = option('builds', undefined);
  const res = await runExchangeBench({
    rounds: numberOption('rounds', 21),
    ops: numberOption('ops', 3000),
    ...(typeof builds === 'string' ? { builds: builds.split(',') } : {}),
  });
  console.log(
    `The library's server-side work per encrypted exchange (open, seal), ${res.rounds} rounds x ${res.ops}, node ${process.version}\n`,
  );
  for (const b of res.builds) {
    const diff =
      b.pairedDifferenceUs === undefined
        ? ''
        : `   ${b.pairedDifferenceUs >= 0 ? '+' : ''}${b.pairedDifferenceUs.toFixed(2)} µs vs the first (paired median)`;
    console.log(`${b.usPerExchange.toFixed(2).padStart(8)} µs  ${b.root}${diff}`);
  }
}

if (isMain(import.meta.url)) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
