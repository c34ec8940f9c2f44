#!/usr/bin/env node
// Runs both demo services from dist/ (build first: `npm run demo` does), places one real order through
// order-service, then sends attacks straight to inventory-service and checks that each one is refused
// with the expected status and reason. Exit code 0 only if every expectation held.
//
// Keys are generated for this run only and never printed (key ids only); the inventory lives in a fresh
// temporary directory, so P123 starts at 100. Both services are stopped and the directory removed on
// success, on failure and on Ctrl-C.
//
// To add a step, append an object to the array built in `buildSteps`:
//   { title, why, send: (ctx) => Promise<Result>, expect: { status, reason?, body?, json? } }
// `status` is a number or a list of accepted numbers.
// `send` returns { status, text, json } (see `exchange`); `expect.body` is compared with the text,
// `expect.reason` with json.reason, `expect.json` (a function) can check anything else.

import { spawn } from 'node:child_process';
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { ClientProxyFactory, Transport } from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';
import {
  JWE_MEDIA_TYPE,
  KeyRing,
  deriveKeys,
  encryptCompact,
  encryptEcdhEs,
  generateEd25519KeyText,
  generateX25519KeyText,
  openEcdhEsResponse,
  openResponse,
  openSignedMessageAnswer,
  signMessage,
  signRequest,
} from 'nest-service-auth/core';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const HOST = '127.0.0.1';
const ORDER_PORT = 8081;
const INVENTORY_PORT = 8082;
/** inventory-service's TCP microservice: inventory.update as a signed message. */
const INVENTORY_MESSAGE_PORT = 8083;
const ORDER_URL = `http://${HOST}:${ORDER_PORT}`;
const INVENTORY_URL = `http://${HOST}:${INVENTORY_PORT}`;
const STARTUP_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;

// ---------------------------------------------------------------------------------------------------------
// Credentials: generated the way the README tells users to (sk_ + random API key, 32 random bytes secret).

// DEMO_ALGORITHM=ed25519 runs the same steps with ed25519 credentials: each caller signs with its
// private key, inventory-service holds only their public keys, signs its answers with a key of its
// own, and is sent bodies encrypted to its X25519 key (ECDH-ES). The default is hmac-sha256.
const ALGORITHM = process.env.DEMO_ALGORITHM === 'ed25519' ? 'ed25519' : 'hmac-sha256';
/** inventory-service's own keys when callers sign with ed25519: its answer key and its X25519 encryption key. */
const INVENTORY_KEYS = ALGORITHM === 'ed25519' ? { answers: generateEd25519KeyText(), encryption: generateX25519KeyText() } : undefined;
const INVENTORY_ENCRYPTION_KEY_ID = 'inventory-x25519-demo';

function newCredential(prefix) {
  const base = { id: `${prefix}-${randomBytes(3).toString('hex')}`, apiKey: `sk_${randomBytes(32).toString('base64url')}` };
  if (ALGORITHM === 'hmac-sha256') return { ...base, secret: randomBytes(32).toString('base64url') };
  const pair = generateEd25519KeyText();
  return { ...base, secret: pair.privateKey, publicKey: pair.publicKey };
}

/** A key list as the caller holds it (the secret, or the private key). */
const keyList = (...credentials) =>
  credentials.map((c) => (c.publicKey ? `${c.id}:${c.apiKey}:ed25519:${c.secret}` : `${c.id}:${c.apiKey}:${c.secret}`)).join(',');
/** A key list as the callee holds it (the secret, or only the public key). */
const calleeKeyList = (...credentials) =>
  credentials.map((c) => (c.publicKey ? `${c.id}:${c.apiKey}:ed25519:${c.publicKey}` : `${c.id}:${c.apiKey}:${c.secret}`)).join(',');

/** The keys derived from a credential's secret: hmacKey signs, encryptionKey encrypts bodies and answers. */
const derived = (c) => deriveKeys(Buffer.from(c.secret, 'base64url'));

const der = (text) => Buffer.from(text, 'base64url');
const privateKeyOf = (text) => createPrivateKey({ key: der(text), format: 'der', type: 'pkcs8' });
const publicKeyOf = (text) => createPublicKey({ key: der(text), format: 'der', type: 'spki' });

/** The signing credential signRequest takes, for either algorithm. */
function signingCredential(credential, audience) {
  const { id, apiKey } = credential;
  if (!credential.publicKey) return { id, apiKey, hmacKey: derived(credential).hmacKey, audience };
  return { id, apiKey, algorithm: 'ed25519', privateKey: privateKeyOf(credential.secret), audience };
}

/**
 * Seals a body as SignedHttpService does: `dir` under the pair's encryption key (hmac-sha256), or
 * ECDH-ES to inventory's X25519 key (ed25519). Returns the JWE and how to open the answer.
 */
function seal(credential, body) {
  if (!credential.publicKey) {
    const { encryptionKey } = derived(credential);
    return {
      jwe: encryptCompact(body, encryptionKey, { kid: credential.id, cty: 'application/json' }),
      open: (jwe, expected) => openResponse(jwe, (kid) => (kid === credential.id ? encryptionKey : undefined), expected),
    };
  }
  const sealed = encryptEcdhEs(body, publicKeyOf(INVENTORY_KEYS.encryption.publicKey), {
    kid: INVENTORY_ENCRYPTION_KEY_ID,
    cty: 'application/json',
  });
  return { jwe: sealed.jwe, open: (jwe, expected) => openEcdhEsResponse(jwe, sealed.ephemeralPrivateKey, expected) };
}

// ---------------------------------------------------------------------------------------------------------
// HTTP helpers

/**
 * Sends one request and returns { status, text, json, encrypted }. An encrypted answer (application/jose)
 * is opened with `open` and its JSON returned; json is undefined when the body is not JSON.
 */
async function exchange(url, { method = 'GET', headers = {}, body } = {}, open) {
  const response = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(15_000) });
  let text = await response.text();
  const encrypted = (response.headers.get('content-type') ?? '').startsWith(JWE_MEDIA_TYPE);
  if (encrypted) {
    if (!open) throw new Error('encrypted answer, but no key to open it');
    text = open(text, response.status).toString('utf8');
  }
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, text, json, encrypted };
}

/**
 * A request to inventory-service as order-service's SignedHttpService makes it: the JSON body encrypted
 * (JWE, A256GCM) under the credential's encryption key, an encrypted answer asked for, and the headers
 * signed over exactly the bytes sent. `encrypt: false` sends a signed plaintext body instead.
 * Returns { url, init, open } where `open` decrypts the answer (checking it answers this request).
 */
function signedRequest(
  credential,
  { method = 'POST', path = '/api/inventory', payload, encrypt = true, audience = 'inventory-service' } = {},
) {
  const url = `${INVENTORY_URL}${path}`;
  const headers = encrypt ? { accept: JWE_MEDIA_TYPE } : {};
  let body;
  let sealed;
  if (payload !== undefined) {
    body = Buffer.from(JSON.stringify(payload), 'utf8');
    headers['content-type'] = 'application/json';
    if (encrypt) {
      sealed = seal(credential, body);
      body = Buffer.from(sealed.jwe, 'latin1');
      headers['content-type'] = JWE_MEDIA_TYPE;
    }
  }
  const nonce = randomBytes(16).toString('base64url');
  const signature = signRequest({ method, url, headers, body }, signingCredential(credential, audience), { nonce });
  // A bodiless request's answer is sealed under the pair's key (hmac-sha256); an ed25519 caller has
  // no ephemeral key to have it sealed to, and asks for none.
  const open = (jwe, status) => (sealed ?? seal(credential, Buffer.alloc(0))).open(jwe, { nonce, status });
  return { url, init: { method, headers: { ...headers, ...signature }, body }, open };
}

/** Sends a request made by signedRequest (optionally with another body: a tampering in transit). */
function sendSigned({ url, init, open }, bodyOverride) {
  return exchange(url, bodyOverride === undefined ? init : { ...init, body: bodyOverride }, open);
}

// ---------------------------------------------------------------------------------------------------------
// Message helpers: inventory.update over Nest's TCP transport

/** order-service's key for inventory-service, as its key ring resolves it (signs messages, opens answers). */
const messageKey = (credential) =>
  KeyRing.from({ upstreams: [{ id: 'inventory-service', url: INVENTORY_URL, keys: [credential] }] }, 'order-service').upstream(
    'inventory-service',
  ).keys[0];

let messageClient;

/**
 * Sends one inventory.update message (`data`: a signed envelope, or anything else) and returns
 * { status, json } like `exchange`: an answer is opened when `nonce` (the envelope's) is given, and a
 * refusal's { status, reason, message } is returned as it arrived.
 */
async function sendMessage(data, { key, nonce } = {}) {
  messageClient ??= ClientProxyFactory.create({ transport: Transport.TCP, options: { host: HOST, port: INVENTORY_MESSAGE_PORT } });
  try {
    const answer = await firstValueFrom(messageClient.send('inventory.update', data));
    const json = nonce
      ? openSignedMessageAnswer(answer, { nonce, callerId: 'order-service', upstream: 'inventory-service', sealed: true }, () => key)
      : answer;
    return { status: 200, text: JSON.stringify(json), json };
  } catch (error) {
    return { status: error?.status ?? 500, text: JSON.stringify(error), json: error };
  }
}

const jsonPost = (payload, headers = {}) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(payload),
});

// ---------------------------------------------------------------------------------------------------------
// The steps

function buildSteps({ orderKey, reportingKey }) {
  // The replay steps share one captured request: sent once (accepted), then the exact same bytes again.
  let captured;
  let capturedMessage;
  const capture = () => (captured ??= signedRequest(orderKey, { payload: { productId: 'P123', quantity: 1 } }));

  return [
    {
      title: 'Real order through order-service',
      why: 'POST /api/orders (public) → order-service signs and encrypts its call to inventory-service',
      send: () => exchange(`${ORDER_URL}/api/orders`, jsonPost({ productId: 'P123', quantity: 2 })),
      expect: { status: 200, body: 'Inventory updated for product P123. New stock: 98' },
    },
    {
      title: 'Attack: unsigned call',
      why: 'a plain JSON POST to the inventory, no credentials at all',
      send: () => exchange(`${INVENTORY_URL}/api/inventory`, jsonPost({ productId: 'P123', quantity: 50 })),
      expect: { status: 401, reason: 'api_key_missing' },
    },
    {
      title: 'Attack: valid API key, no signature',
      why: "order-service's real API key (say, leaked from a log), but no Signature headers",
      send: () =>
        exchange(`${INVENTORY_URL}/api/inventory`, jsonPost({ productId: 'P123', quantity: 50 }, { 'x-api-key': orderKey.apiKey })),
      expect: { status: 401, reason: 'signature_missing' },
    },
    {
      title: 'Attack: wrong API key',
      why: 'a correctly signed and encrypted request made with credentials the inventory has never seen',
      send: () => sendSigned(signedRequest(newCredential('stranger'), { payload: { productId: 'P123', quantity: 50 } })),
      expect: { status: 401, reason: 'api_key_invalid' },
    },
    {
      title: 'Attack: tampered body',
      why: 'a genuine signed request for quantity 1 whose body is swapped in transit for quantity 90 (validly encrypted too)',
      send: () => {
        const genuine = signedRequest(orderKey, { payload: { productId: 'P123', quantity: 1 } });
        const swapped = signedRequest(orderKey, { payload: { productId: 'P123', quantity: 90 } });
        return sendSigned(genuine, swapped.init.body);
      },
      expect: { status: 401, reason: 'digest_mismatch' },
    },
    {
      title: 'Replay, part 1: the original request',
      why: 'a genuine signed, encrypted request from order-service (quantity 1), captured by an eavesdropper',
      // What the eavesdropper sees of the body: a compact JWE. Only its protected header is readable.
      show: () => {
        const jwe = capture().init.body.toString('latin1');
        const header = Buffer.from(jwe.slice(0, jwe.indexOf('.')), 'base64url').toString('utf8');
        return [
          `body on the wire (${capture().init.headers['content-type']}, ${jwe.length} bytes): ${jwe.slice(0, 48)}…`,
          `its protected header: ${header}   (the order itself is ciphertext)`,
        ];
      },
      send: () => sendSigned(capture()),
      expect: { status: 200, json: (json) => json?.newStock === 97 || `expected newStock 97, got ${json?.newStock}` },
    },
    {
      title: 'Attack: replayed request',
      why: 'the exact same bytes and headers sent a second time',
      send: () => sendSigned(capture()),
      expect: { status: 401, reason: 'nonce_replayed' },
    },
    {
      title: 'Attack: request meant for another service',
      why: "order-service's valid key and signature, but signed for billing-service (the signature's audience): captured there, replayed here",
      send: () => sendSigned(signedRequest(orderKey, { payload: { productId: 'P123', quantity: 1 }, audience: 'billing-service' })),
      expect: { status: 401, reason: 'audience_mismatch' },
    },
    {
      title: 'Attack: call from an untrusted service',
      why: "reporting-service is a configured caller with a valid key, but POST /api/inventory trusts only 'order-service'",
      send: () => sendSigned(signedRequest(reportingKey, { payload: { productId: 'P123', quantity: 1 } })),
      expect: { status: 403, reason: 'caller_not_trusted' },
    },
    {
      title: 'Attack: signed but not encrypted',
      why: "order-service's valid signature over a plaintext JSON body: the inventory accepts encrypted orders only",
      send: () => sendSigned(signedRequest(orderKey, { payload: { productId: 'P123', quantity: 1 }, encrypt: false })),
      expect: { status: 415, reason: 'encryption_required' },
    },
    ...(ALGORITHM === 'hmac-sha256'
      ? [
          {
            title: 'Signed message: inventory.update over TCP',
            why: "order-service's signed envelope (RFC 9421 over the pattern and the digest of its encrypted payload) sent with Nest's TCP client; the answer is sealed, signed and bound to its nonce",
            send: () => {
              const key = messageKey(orderKey);
              capturedMessage = signMessage(
                { kind: 'SEND', pattern: 'inventory.update', data: { productId: 'P123', quantity: 1 }, encrypt: true },
                key,
              );
              return sendMessage(capturedMessage.envelope, { key, nonce: capturedMessage.nonce });
            },
            expect: { status: 200, json: (json) => json?.newStock === 96 || `expected newStock 96, got ${json?.newStock}` },
          },
          {
            title: 'Attack: unsigned message',
            why: 'a plain inventory.update message with no envelope, as any client on the network could send',
            send: () => sendMessage({ productId: 'P123', quantity: 50 }),
            expect: { status: 401, reason: 'api_key_missing' },
          },
          {
            title: 'Attack: replayed message',
            why: 'the exact envelope of the signed message above, sent a second time',
            send: () => sendMessage(capturedMessage.envelope),
            expect: { status: 401, reason: 'nonce_replayed' },
          },
          {
            title: 'Stock after the attacks',
            why: 'signed GET /api/inventory/P123: 100 - 2 (order) - 1 (replay original) - 1 (message) = 96; no attack changed it',
            send: () => sendSigned(signedRequest(orderKey, { method: 'GET', path: '/api/inventory/P123' })),
            expect: { status: 200, json: (json) => json?.stock === 96 || `expected stock 96, got ${json?.stock}` },
          },
        ]
      : [
          {
            // An ed25519 caller's answer is sealed to the ephemeral key of its encrypted body: a GET has none,
            // so under the 'required' policy the stock is read through one more order.
            title: 'Stock after the attacks',
            why: 'a sealed order of 1: 100 - 2 (order) - 1 (replay original) - 1 = 96; no attack changed the stock',
            send: () => sendSigned(signedRequest(orderKey, { payload: { productId: 'P123', quantity: 1 } })),
            expect: { status: 200, json: (json) => json?.newStock === 96 || `expected newStock 96, got ${json?.newStock}` },
          },
        ]),
  ];
}

/** Returns the list of expectation failures of one result (empty when all held). */
function check(result, expect) {
  const problems = [];
  const statuses = [expect.status].flat();
  if (!statuses.includes(result.status)) problems.push(`expected status ${statuses.join(' or ')}, got ${result.status}`);
  if (expect.reason !== undefined && result.json?.reason !== expect.reason) {
    problems.push(`expected reason ${expect.reason}, got ${result.json?.reason ?? '(none)'}`);
  }
  if (expect.body !== undefined && result.text !== expect.body) problems.push(`expected body ${JSON.stringify(expect.body)}`);
  if (expect.json !== undefined) {
    const verdict = expect.json(result.json);
    if (verdict !== true) problems.push(typeof verdict === 'string' ? verdict : 'JSON check failed');
  }
  return problems;
}

function describe(result) {
  const { status, text, json } = result;
  if (json && typeof json === 'object') {
    if (json.reason) return `${status} ${json.reason}: ${Array.isArray(json.message) ? json.message.join('; ') : json.message}`;
    return `${status} ${JSON.stringify(json)}${result.encrypted ? '   (answer was encrypted; opened with the caller key)' : ''}`;
  }
  return `${status} ${JSON.stringify(text)}`;
}

// ---------------------------------------------------------------------------------------------------------
// Child processes

class Service {
  constructor(name, entry, env) {
    this.name = name;
    this.entry = entry;
    this.env = env;
    /** Log entries: a line starting with "[Nest]" plus its continuation lines (multi-line objects). */
    this.entries = [];
    this.partial = '';
    this.exited = undefined;
  }

  start() {
    this.child = spawn(process.execPath, [this.entry], { cwd: ROOT, env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const onData = (chunk) => this.collect(chunk.toString('utf8'));
    this.child.stdout.on('data', onData);
    this.child.stderr.on('data', onData);
    this.exitPromise = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exited = { code, signal };
        resolve();
      });
      this.child.once('error', (error) => {
        this.exited = { error };
        resolve();
      });
    });
  }

  collect(text) {
    const lines = (this.partial + stripVTControlCharacters(text)).split('\n');
    this.partial = lines.pop();
    for (const line of lines) {
      if (this.entries.length === 0 || line.startsWith('[Nest]')) this.entries.push(line);
      else this.entries[this.entries.length - 1] += `\n${line}`;
    }
  }

  /** Entries on one line each, without the "[Nest] pid - date" prefix. */
  compactEntries() {
    return [...this.entries, ...(this.partial ? [this.partial] : [])].map((entry) =>
      entry
        .replace(/^\[Nest\] \d+\s+-\s+.*?\s+(LOG|WARN|ERROR|DEBUG|VERBOSE|FATAL)\s+/, '$1 ')
        .replace(/\s*\n\s*/g, ' ')
        .replace(/Object\(\d+\) /, '')
        .trim(),
    );
  }

  async waitHealthy(url) {
    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    for (;;) {
      if (this.exited) {
        throw new Error(`${this.name} exited during startup (${JSON.stringify(this.exited)}). Its last log lines:\n${this.tail(20)}`);
      }
      try {
        const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline)
        throw new Error(
          `${this.name} did not answer ${url}/health within ${STARTUP_TIMEOUT_MS / 1000} s. Its last log lines:\n${this.tail(20)}`,
        );
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  tail(n) {
    return this.compactEntries()
      .slice(-n)
      .map((l) => `    ${l}`)
      .join('\n');
  }

  /** SIGTERM (the services close their database on shutdown), SIGKILL if still running after a while. */
  async stop() {
    if (!this.child || this.exited) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await this.exitPromise;
    clearTimeout(timer);
  }
}

function assertPortFree(port) {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (error) =>
      reject(
        new Error(
          error.code === 'EADDRINUSE'
            ? `Port ${port} on ${HOST} is already in use. Stop whatever listens there (another demo run, or a service started by hand) and try again.`
            : `Cannot listen on ${HOST}:${port}: ${error.message}`,
        ),
      ),
    );
    server.listen(port, HOST, () => server.close(() => resolve()));
  });
}

/** The environment of a child: ours, less anything that would change the demo's configuration. */
function childEnv(overrides) {
  const env = {};
  const dropped =
    /^(SERVICE_AUTH_|INVENTORY_|ENCRYPTION_POLICY$|DATABASE_URL$|REDIS_URL$|RATE_LIMIT_PER_MINUTE$|PORT$|HOST$|MAX_BODY_BYTES$)/;
  for (const [name, value] of Object.entries(process.env)) if (!dropped.test(name)) env[name] = value;
  return { ...env, NO_COLOR: '1', HOST, ...overrides };
}

// ---------------------------------------------------------------------------------------------------------
// Main

const services = [];
let dataRoot;
let cleaning;

function cleanup() {
  cleaning ??= (async () => {
    await messageClient?.close();
    await Promise.all(services.map((s) => s.stop().catch(() => undefined)));
    if (dataRoot) rmSync(dataRoot, { recursive: true, force: true });
  })();
  return cleaning;
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    console.error(`\n${signal} received: stopping both services...`);
    cleanup().finally(() => process.exit(130));
  });
}

const hr = (title) => console.log(`\n== ${title} ${'='.repeat(Math.max(0, 76 - title.length))}`);

async function main() {
  for (const app of ['inventory-service', 'order-service']) {
    if (!existsSync(join(ROOT, 'dist/apps', app, 'main.js'))) {
      throw new Error(`dist/apps/${app}/main.js is missing: run \`npm run build\` first (\`npm run demo\` does).`);
    }
  }
  await assertPortFree(ORDER_PORT);
  await assertPortFree(INVENTORY_PORT);
  await assertPortFree(INVENTORY_MESSAGE_PORT);

  const orderKey = newCredential('order-demo');
  const reportingKey = newCredential('reporting-demo');
  dataRoot = mkdtempSync(join(tmpdir(), 'nest-service-auth-demo-'));
  const adapter = process.env.HTTP_ADAPTER === 'fastify' ? 'fastify' : 'express';

  hr('Setup');
  console.log(`Fresh keys for this run (secrets are never printed):`);
  console.log(`  order-service      key id ${orderKey.id}   (trusted by POST /api/inventory)`);
  console.log(`  reporting-service  key id ${reportingKey.id}   (a known caller of inventory, trusted by no inventory route)`);
  console.log(`Inventory data: a fresh temporary directory (removed at the end); HTTP adapter: ${adapter}; credentials: ${ALGORITHM}`);

  const inventory = new Service(
    'inventory-service',
    'dist/apps/inventory-service/main.js',
    childEnv({
      PORT: String(INVENTORY_PORT),
      INVENTORY_MESSAGE_PORT: String(INVENTORY_MESSAGE_PORT),
      SERVICE_AUTH_CALLERS: 'order-service,reporting-service',
      SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS: calleeKeyList(orderKey),
      SERVICE_AUTH_CALLER_REPORTING_SERVICE_KEYS: calleeKeyList(reportingKey),
      ...(INVENTORY_KEYS && {
        SERVICE_AUTH_ANSWER_KEYS: `inventory-answers-demo:ed25519:${INVENTORY_KEYS.answers.privateKey}`,
        SERVICE_AUTH_ENCRYPTION_KEYS: `${INVENTORY_ENCRYPTION_KEY_ID}:x25519:${INVENTORY_KEYS.encryption.privateKey}`,
      }),
      INVENTORY_DATA_DIR: join(dataRoot, 'inventory'),
      ENCRYPTION_POLICY: 'required',
    }),
  );
  const order = new Service(
    'order-service',
    'dist/apps/order-service/main.js',
    childEnv({
      PORT: String(ORDER_PORT),
      // One credential per (caller, callee) pair: this one is for calling inventory-service only.
      SERVICE_AUTH_UPSTREAMS: 'inventory-service',
      SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_URL: INVENTORY_URL,
      SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_KEYS: keyList(orderKey),
      ...(INVENTORY_KEYS && {
        SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_ANSWER_KEYS: `inventory-answers-demo:ed25519:${INVENTORY_KEYS.answers.publicKey}`,
        SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_ENCRYPTION_KEYS: `${INVENTORY_ENCRYPTION_KEY_ID}:x25519:${INVENTORY_KEYS.encryption.publicKey}`,
      }),
    }),
  );
  services.push(inventory, order);

  inventory.start();
  order.start();
  await Promise.all([inventory.waitHealthy(INVENTORY_URL), order.waitHealthy(ORDER_URL)]);
  console.log(`inventory-service: ${INVENTORY_URL}   order-service: ${ORDER_URL}   (both healthy)`);

  const steps = buildSteps({ orderKey, reportingKey });
  const ctx = { orderKey, reportingKey };
  let passed = 0;
  let failed = 0;
  steps.forEach((step, i) => (step.number = i + 1));
  for (const step of steps) {
    hr(`${step.number}. ${step.title}`);
    console.log(`   ${step.why}`);
    for (const line of step.show?.() ?? []) console.log(`   ${line}`);
    let result;
    let problems;
    try {
      result = await step.send(ctx);
      problems = check(result, step.expect);
    } catch (error) {
      problems = [`request failed: ${error.message}`];
    }
    if (result) console.log(`   → ${describe(result)}`);
    const expected = [
      [step.expect.status].flat().join('/'),
      step.expect.reason ?? (step.expect.body !== undefined ? JSON.stringify(step.expect.body) : ''),
    ]
      .join(' ')
      .trim();
    if (problems.length === 0) {
      passed++;
      console.log(`   ✔ as expected (${expected})`);
    } else {
      failed++;
      for (const p of problems) console.log(`   ✘ ${p}`);
    }
  }

  await new Promise((r) => setTimeout(r, 300)); // let the last log lines arrive
  hr('Service logs (excerpt)');
  const interesting = /Sending Order|Received Order|listening on|service_auth_rejected|ERROR/;
  for (const service of [order, inventory]) {
    console.log(`${service.name}:`);
    const lines = service.compactEntries().filter((l) => interesting.test(l));
    for (const line of lines.slice(0, 16)) console.log(`    ${line.length > 170 ? `${line.slice(0, 167)}...` : line}`);
  }

  hr('Result');
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0;
}

let ok = false;
try {
  ok = await main();
} catch (error) {
  console.error(`\nDemo failed: ${error.message}`);
} finally {
  await cleanup();
}
process.exitCode = ok ? 0 : 1;
