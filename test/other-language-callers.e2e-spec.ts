/**
 * The callers of examples/callers, written from PROTOCOL.md alone in bash (curl + openssl) and in
 * Python, run as child processes against a real inventory-service, on both adapters: with an
 * hmac-sha256 credential, and with an ed25519 one (the Python caller also verifies the signed answer,
 * here through a proxy that rewrites, replays or unsigns it); and PROTOCOL.md links those files.
 *
 * Tools: bash, curl, openssl 3.0 or later (`pkeyutl -rawin`, for Ed25519) and a Python 3 that can
 * import `cryptography` (for the encrypted and Ed25519 examples; the signed example needs the
 * standard library alone). The Python is CALLERS_PYTHON,
 * default /usr/bin/python3: the system interpreter, which sees Debian's python3-cryptography (a
 * pyenv or virtualenv python3 earlier on PATH does not). .ci/run installs all of them. A missing
 * tool fails every test here with one line naming it; nothing is skipped.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { INestApplication } from '@nestjs/common';
import { deriveKeys, encryptCompact, generateEd25519KeyText } from 'nest-service-auth/core';
import { createInventoryApp } from '../apps/inventory-service/src/inventory-app.js';
import { startAnswerRewritingProxy, type AnswerRewritingProxy } from './support/answer-rewriting-proxy.js';
import { pairKeys, type PairKeys, type TestCredential } from './support/credentials.js';
import { listenUrl, portOf, startServices, type Adapter, type RunningServices } from './support/demo-services.js';
import { rawRequest, reasonOf, signedHeaders, signingCredential } from './support/raw-http.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const EXAMPLES = join(ROOT, 'examples', 'callers');
const CURL_CALLER = join(EXAMPLES, 'curl', 'signed-request.sh');
const PYTHON_CALLER = join(EXAMPLES, 'python', 'signed_request.py');
const PYTHON_ENCRYPTED_CALLER = join(EXAMPLES, 'python', 'encrypted_request.py');
const CURL_ED25519_CALLER = join(EXAMPLES, 'curl', 'ed25519-request.sh');
const PYTHON_ED25519_CALLER = join(EXAMPLES, 'python', 'ed25519_request.py');
const PYTHON = process.env.CALLERS_PYTHON || '/usr/bin/python3';

const ORDER = '{"productId":"P123","quantity":1}';
const UPDATED = /^Inventory updated for product P123\. New stock: \d+$/;

interface ProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end; resolves with its exit code and output whatever the code. Never blocks the event loop (the services answer from this process). */
function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { env, timeout: 30_000, maxBuffer: 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (err as NodeJS.ErrnoException & { code?: unknown }).code : 0;
      if (typeof code !== 'number') return reject(new Error(`${command} ${args.join(' ')}: ${err?.message}\n${stderr}`));
      resolve({ code, stdout, stderr });
    });
  });
}

/** The tools the examples need; each missing one is reported in one line with how to install it. */
async function findMissingTools(): Promise<string[]> {
  const checks: Array<[string, string[], string]> = [
    ['bash', ['--version'], 'bash'],
    ['curl', ['--version'], 'curl (apt-get install curl)'],
    ['openssl', ['version'], 'openssl (apt-get install openssl)'],
    ['bash', ['-c', 'openssl pkeyutl -help 2>&1 | grep -- -rawin >/dev/null'], 'openssl 3.0 or later (pkeyutl -rawin, for Ed25519)'],
    [
      PYTHON,
      ['-c', 'import cryptography'],
      `${PYTHON} with the cryptography package (apt-get install python3-cryptography, or set CALLERS_PYTHON)`,
    ],
  ];
  const missing: string[] = [];
  for (const [command, args, what] of checks) {
    const ok = await run(command, args).then(
      (r) => r.code === 0,
      () => false,
    );
    if (!ok) missing.push(what);
  }
  return missing;
}

let toolCheck: Promise<string[]> | undefined;

/** Fails the calling hook, hence every test of its block, when a tool is missing: never a skip. */
async function requireTools(): Promise<void> {
  const missing = await (toolCheck ??= findMissingTools());
  if (missing.length > 0) throw new Error(`other-language callers: missing ${missing.join('; ')}`);
}

/** The environment of an example: the caller's credential for one callee, no proxy, no .pyc files in the repository. */
function callerEnv(credential: TestCredential, audience: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) if (/_proxy$/i.test(name)) delete env[name];
  return {
    ...env,
    PYTHONDONTWRITEBYTECODE: '1',
    SERVICE_AUTH_KEY_ID: credential.id,
    SERVICE_AUTH_API_KEY: credential.apiKey,
    SERVICE_AUTH_SECRET: credential.secret,
    SERVICE_AUTH_AUDIENCE: audience,
    ...extra,
  };
}

/** The environment of an Ed25519 example: the caller's private key, and the callee's answer public key. */
function ed25519CallerEnv(pair: PairKeys, audience: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { SERVICE_AUTH_SECRET: _secret, ...env } = callerEnv(pair.credential, audience, extra);
  return {
    ...env,
    SERVICE_AUTH_PRIVATE_KEY: pair.credential.secret,
    SERVICE_AUTH_ANSWER_PUBLIC_KEYS: `${pair.answerKey!.id}:ed25519:${pair.answerKey!.publicKey}`,
    ...extra,
  };
}

interface CallerAnswer {
  status: number;
  headers: string;
  body: string;
  code: number;
  stderr: string;
}

/** `curl --include` output: status line, headers, blank line, body. */
async function curlCaller(args: string[], env: NodeJS.ProcessEnv, script = CURL_CALLER): Promise<CallerAnswer> {
  const r = await run('bash', [script, ...args], env);
  const end = r.stdout.indexOf('\r\n\r\n');
  const status = /^HTTP\/[\d.]+ (\d{3})/.exec(r.stdout);
  if (r.code !== 0 || end < 0 || !status) throw new Error(`${relative(ROOT, script)} failed (exit ${r.code}):\n${r.stderr}${r.stdout}`);
  return { status: Number(status[1]), headers: r.stdout.slice(0, end), body: r.stdout.slice(end + 4), code: r.code, stderr: r.stderr };
}

/** The Python examples print `HTTP <status>`, then the (decrypted) answer. */
async function pythonCaller(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<CallerAnswer> {
  const r = await run(PYTHON, [script, ...args], env);
  const status = /^HTTP (\d{3})\n/.exec(r.stdout);
  if (!status) throw new Error(`${relative(ROOT, script)} printed no status (exit ${r.code}):\n${r.stderr}${r.stdout}`);
  return { status: Number(status[1]), headers: '', body: r.stdout.slice(status[0].length).trimEnd(), code: r.code, stderr: r.stderr };
}

const json = (text: string): unknown => JSON.parse(text);
/** The reason code of a refusal an example caller printed. */
const reasonIn = (text: string) => reasonOf({ json: json(text) });

describe('PROTOCOL.md links the example callers and the test vector', () => {
  // PROTOCOL.md ships in the package, where repository files are not: it links them on GitHub.
  const REPOSITORY_FILE = 'https://github.com/nest-service-auth/nest-service-auth/blob/main/';

  it('every file of examples/callers is linked, and every repository file it links exists', () => {
    const protocol = readFileSync(join(ROOT, 'libs', 'service-auth', 'PROTOCOL.md'), 'utf8');
    const linked = [...protocol.matchAll(/\]\((https:\/\/github\.com\/nest-service-auth\/nest-service-auth\/blob\/main\/[^)\s]+)\)/g)].map(
      (m) => m[1].slice(REPOSITORY_FILE.length),
    );
    const files = readdirSync(EXAMPLES, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile() && !entry.name.endsWith('.pyc'))
      .map((entry) => relative(ROOT, join(entry.parentPath ?? entry.path, entry.name)))
      .sort();
    expect(files).toEqual([
      'examples/callers/curl/ed25519-request.sh',
      'examples/callers/curl/signed-request.sh',
      'examples/callers/python/ed25519_request.py',
      'examples/callers/python/encrypted_request.py',
      'examples/callers/python/signed_request.py',
    ]);
    expect(linked.filter((path) => path.startsWith('examples/')).sort()).toEqual(files);
    expect(linked).toContain('libs/service-auth/test/fixtures/audience-bound-hmac-sha256.json');
    for (const path of linked) expect({ path, exists: existsSync(join(ROOT, path)) }).toEqual({ path, exists: true });
  });
});

describe.each<Adapter>(['express', 'fastify'])('callers in other languages (%s)', (adapter) => {
  // Plaintext orders need ENCRYPTION_POLICY=optional; the encrypted caller also meets the default, required.
  let plain: RunningServices;
  let confidential: RunningServices;
  let plainUrl: string;
  let confidentialUrl: string;

  beforeAll(async () => {
    await requireTools();
    [plain, confidential] = await Promise.all([startServices(adapter, { ENCRYPTION_POLICY: 'optional' }), startServices(adapter)]);
    plainUrl = `${plain.inventoryUrl}/api/inventory`;
    confidentialUrl = `${confidential.inventoryUrl}/api/inventory`;
  });
  afterAll(async () => {
    await Promise.all([plain?.close(), confidential?.close()]);
  });

  describe('curl + openssl', () => {
    it('GET: 200 with the stock', async () => {
      const res = await curlCaller(['GET', `${plainUrl}/P456?unused=a%20b&unused=c`], callerEnv(plain.orderKey, 'inventory-service'));
      expect([res.status, json(res.body)]).toEqual([200, { productId: 'P456', stock: 50 }]);
    });

    it('POST with a body and an Idempotency-Key: 200, the inventory applied the order', async () => {
      const env = callerEnv(plain.orderKey, 'inventory-service', { IDEMPOTENCY_KEY: 'curl-order-1' });
      const res = await curlCaller(['POST', plainUrl, ORDER], env);
      expect(res.status).toBe(200);
      expect(json(res.body)).toMatchObject({ productId: 'P123', message: expect.stringMatching(UPDATED) });
    });

    it('signed for another service: 401 audience_mismatch', async () => {
      const res = await curlCaller(['POST', plainUrl, ORDER], callerEnv(plain.orderKey, 'billing-service'));
      expect([res.status, reasonIn(res.body)]).toEqual([401, 'audience_mismatch']);
    });
  });

  describe('Python, standard library', () => {
    it('GET: 200 with the stock', async () => {
      const res = await pythonCaller(PYTHON_CALLER, ['GET', `${plainUrl}/P456`], callerEnv(plain.orderKey, 'inventory-service'));
      expect([res.code, res.status, json(res.body)]).toEqual([0, 200, { productId: 'P456', stock: 50 }]);
    });

    it('POST with a body and an Idempotency-Key: 200, the inventory applied the order', async () => {
      const env = callerEnv(plain.orderKey, 'inventory-service', { IDEMPOTENCY_KEY: 'python-order-1' });
      const res = await pythonCaller(PYTHON_CALLER, ['POST', plainUrl, ORDER], env);
      expect([res.code, res.status]).toEqual([0, 200]);
      expect(json(res.body)).toMatchObject({ productId: 'P123', message: expect.stringMatching(UPDATED) });
    });

    it('signed for another service: 401 audience_mismatch', async () => {
      const res = await pythonCaller(PYTHON_CALLER, ['POST', plainUrl, ORDER], callerEnv(plain.orderKey, 'billing-service'));
      expect([res.code, res.status, reasonIn(res.body)]).toEqual([1, 401, 'audience_mismatch']);
    });

    it("signed with another secret than the API key's: 401 signature_invalid", async () => {
      const wrongSecret = { ...plain.orderKey, secret: plain.auditKey.secret };
      const res = await pythonCaller(PYTHON_CALLER, ['POST', plainUrl, ORDER], callerEnv(wrongSecret, 'inventory-service'));
      expect([res.code, res.status, reasonIn(res.body)]).toEqual([1, 401, 'signature_invalid']);
    });
  });

  describe('Python, encrypted body (cryptography)', () => {
    it('POST to a route that requires encryption: 200, the answer decrypts and is bound to the request', async () => {
      const env = callerEnv(confidential.orderKey, 'inventory-service', { IDEMPOTENCY_KEY: 'python-encrypted-1' });
      const res = await pythonCaller(PYTHON_ENCRYPTED_CALLER, [confidentialUrl, ORDER], env);
      expect([res.code, res.status]).toEqual([0, 200]);
      expect(json(res.body)).toMatchObject({ productId: 'P123', message: expect.stringMatching(UPDATED) });
    });

    it('control: the same order in plaintext is refused there, 415 encryption_required', async () => {
      const res = await pythonCaller(
        PYTHON_CALLER,
        ['POST', confidentialUrl, ORDER],
        callerEnv(confidential.orderKey, 'inventory-service'),
      );
      expect([res.code, res.status, reasonIn(res.body)]).toEqual([1, 415, 'encryption_required']);
    });

    it('signed for another service: 401 audience_mismatch, in plaintext', async () => {
      const res = await pythonCaller(
        PYTHON_ENCRYPTED_CALLER,
        [confidentialUrl, ORDER],
        callerEnv(confidential.orderKey, 'billing-service'),
      );
      expect([res.code, res.status, reasonIn(res.body)]).toEqual([1, 401, 'audience_mismatch']);
    });
  });

  // What PROTOCOL.md §5.1 tells callers: the media type is application/jose, and Express adds a charset parameter.
  it('an encrypted answer carries the media type application/jose', async () => {
    const headers = signedHeaders(confidential.inventoryUrl, signingCredential(confidential.orderKey), {
      method: 'GET',
      path: '/api/inventory/P456',
      headers: { accept: 'application/jose' },
    });
    const res = await rawRequest(confidential.inventoryUrl, { method: 'GET', path: '/api/inventory/P456', headers });
    // A signed answer's Content-Type is signed as sent: with its charset, on both adapters.
    expect([res.status, res.headers['content-type']]).toEqual([200, 'application/jose; charset=utf-8']);
  });
});

describe.each<Adapter>(['express', 'fastify'])('Ed25519 callers in other languages (%s)', (adapter) => {
  // inventory-service holds only the caller's public key, and signs its answers with its own Ed25519 key.
  let inventory: INestApplication;
  let proxy: AnswerRewritingProxy;
  let pair: PairKeys;
  let url: string;
  /** The same route through a proxy that can change the answer on its way back. */
  let proxiedUrl: string;

  beforeAll(async () => {
    await requireTools();
    pair = pairKeys('ed25519', 'http://127.0.0.1:1');
    inventory = await createInventoryApp({
      adapter,
      logger: false,
      env: { ...pair.inventory, ENCRYPTION_POLICY: 'optional', INVENTORY_STOCK_STORE: 'memory' },
    });
    url = `${await listenUrl(inventory)}/api/inventory`;
    proxy = await startAnswerRewritingProxy(portOf(inventory));
    proxiedUrl = `${proxy.url}/api/inventory`;
  });
  afterAll(async () => {
    await proxy?.close();
    await inventory?.close();
  });

  /** A private key the callee does not know, under the pair's key id and API key. */
  const otherPrivateKey = () => ({ SERVICE_AUTH_PRIVATE_KEY: generateEd25519KeyText().privateKey });

  describe('curl + openssl', () => {
    it("GET: 200 with the stock, and an answer signed with the callee's Ed25519 answer key", async () => {
      const res = await curlCaller(['GET', `${url}/P456?unused=a%20b`], ed25519CallerEnv(pair, 'inventory-service'), CURL_ED25519_CALLER);
      expect([res.status, json(res.body)]).toEqual([200, { productId: 'P456', stock: 50 }]);
      expect(res.headers).toMatch(/^signature-input: sig1=\("@status" .*;keyid="inventory-answers-1";alg="ed25519"\r?$/im);
    });

    it('POST with a body and an Idempotency-Key: 200, the inventory applied the order', async () => {
      const env = ed25519CallerEnv(pair, 'inventory-service', { IDEMPOTENCY_KEY: 'curl-ed25519-order-1' });
      const res = await curlCaller(['POST', url, ORDER], env, CURL_ED25519_CALLER);
      expect(res.status).toBe(200);
      expect(json(res.body)).toMatchObject({ productId: 'P123', message: expect.stringMatching(UPDATED) });
    });

    it("signed with a private key that is not the configured public key's: 401 signature_invalid", async () => {
      const env = ed25519CallerEnv(pair, 'inventory-service', otherPrivateKey());
      const res = await curlCaller(['POST', url, ORDER], env, CURL_ED25519_CALLER);
      expect([res.status, reasonIn(res.body)]).toEqual([401, 'signature_invalid']);
    });

    it('signed for another service: 401 audience_mismatch', async () => {
      const res = await curlCaller(['POST', url, ORDER], ed25519CallerEnv(pair, 'billing-service'), CURL_ED25519_CALLER);
      expect([res.status, reasonIn(res.body)]).toEqual([401, 'audience_mismatch']);
    });
  });

  describe('Python (cryptography), the signed answer verified', () => {
    it("GET: exits 0 with the stock, the answer's signature verified", async () => {
      const res = await pythonCaller(
        PYTHON_ED25519_CALLER,
        ['GET', `${url}/P456?unused=a%20b`],
        ed25519CallerEnv(pair, 'inventory-service'),
      );
      expect([res.code, res.status, json(res.body)]).toEqual([0, 200, { productId: 'P456', stock: 50 }]);
    });

    it('POST with a body and an Idempotency-Key: exits 0, the inventory applied the order', async () => {
      const env = ed25519CallerEnv(pair, 'inventory-service', { IDEMPOTENCY_KEY: 'python-ed25519-order-1' });
      const res = await pythonCaller(PYTHON_ED25519_CALLER, ['POST', url, ORDER], env);
      expect([res.code, res.status]).toEqual([0, 200]);
      expect(json(res.body)).toMatchObject({ productId: 'P123', message: expect.stringMatching(UPDATED) });
    });

    it("signed with a private key that is not the configured public key's: 401 signature_invalid, exits 1", async () => {
      const env = ed25519CallerEnv(pair, 'inventory-service', otherPrivateKey());
      const res = await pythonCaller(PYTHON_ED25519_CALLER, ['POST', url, ORDER], env);
      expect([res.code, res.status, reasonIn(res.body)]).toEqual([1, 401, 'signature_invalid']);
    });

    it('signed for another service: 401 audience_mismatch, exits 1', async () => {
      const res = await pythonCaller(PYTHON_ED25519_CALLER, ['POST', url, ORDER], ed25519CallerEnv(pair, 'billing-service'));
      expect([res.code, res.status, reasonIn(res.body)]).toEqual([1, 401, 'audience_mismatch']);
    });

    it('control: through the proxy, unchanged, the answer verifies', async () => {
      proxy.fault = 'pass';
      const res = await pythonCaller(PYTHON_ED25519_CALLER, ['GET', `${proxiedUrl}/P456`], ed25519CallerEnv(pair, 'inventory-service'));
      expect([res.code, res.status, json(res.body)]).toEqual([0, 200, { productId: 'P456', stock: 50 }]);
    });

    it('an answer whose bytes were rewritten in transit: exits 1, prints nothing of it', async () => {
      proxy.fault = 'rewrite';
      proxy.rewrite = { from: '"stock":50', to: '"stock":99' };
      const res = await pythonCaller(PYTHON_ED25519_CALLER, ['GET', `${proxiedUrl}/P456`], ed25519CallerEnv(pair, 'inventory-service'));
      expect([res.code, res.status, res.body]).toEqual([1, 200, "answer refused: the answer's Content-Digest does not match its bytes"]);
    });

    it('the answer to an earlier request replayed in place of this one: exits 1', async () => {
      proxy.fault = 'replay-first';
      const res = await pythonCaller(PYTHON_ED25519_CALLER, ['GET', `${proxiedUrl}/P456`], ed25519CallerEnv(pair, 'inventory-service'));
      expect(res.code).toBe(1);
      expect(res.body).toMatch(/^answer refused: the answer's signature does not verify/);
    });

    it('an answer stripped of its signature: exits 1', async () => {
      proxy.fault = 'strip-signature';
      const res = await pythonCaller(PYTHON_ED25519_CALLER, ['GET', `${proxiedUrl}/P456`], ed25519CallerEnv(pair, 'inventory-service'));
      expect([res.code, res.body]).toEqual([1, 'answer refused: the answer is not signed']);
    });

    it("an answer verified with another public key under the answer key's id: exits 1", async () => {
      const env = ed25519CallerEnv(pair, 'inventory-service', {
        SERVICE_AUTH_ANSWER_PUBLIC_KEYS: `${pair.answerKey!.id}:ed25519:${generateEd25519KeyText().publicKey}`,
      });
      const res = await pythonCaller(PYTHON_ED25519_CALLER, ['GET', `${url}/P456`], env);
      expect(res.code).toBe(1);
      expect(res.body).toMatch(/^answer refused: the answer's signature does not verify/);
    });
  });
});

describe('the encrypted Python caller refuses an answer not made for its request and its status', () => {
  let impostor: Server;
  let url: string;
  const credential: TestCredential = {
    id: 'order-2026-11',
    apiKey: `sk_${'a'.repeat(43)}`,
    secret: Buffer.alloc(32, 7).toString('base64url'),
  };
  const key = deriveKeys(Buffer.from(credential.secret, 'base64url')).encryptionKey;
  /** What the impostor answers, given the nonce the request was signed with. */
  let answer: (nonce: string) => { status: number; headers?: Record<string, string>; body?: string };

  beforeAll(async () => {
    await requireTools();
    impostor = createServer((req, res) => {
      const nonce = /nonce="([^"]+)"/.exec(String(req.headers['signature-input']))?.[1] ?? '';
      req.resume();
      req.on('end', () => {
        const { status, headers = {}, body } = answer(nonce);
        res.writeHead(status, headers).end(body);
      });
    });
    await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
    const address = impostor.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/api/inventory`;
  });
  afterAll(async () => {
    if (impostor) await new Promise((resolve) => impostor.close(resolve));
  });

  const sealed = (nonce: string, status: number) => ({
    status: 200,
    headers: { 'content-type': 'application/jose' },
    body: encryptCompact(Buffer.from('{"message":"captured"}'), key, { kid: credential.id, nonce, status }),
  });

  it('a genuine answer under the right key, bound to another nonce (a captured answer replayed): exits 1, prints nothing of it', async () => {
    answer = () => sealed('AAAAAAAAAAAAAAAAAAAAAA', 200);
    const res = await pythonCaller(PYTHON_ENCRYPTED_CALLER, [url, ORDER], callerEnv(credential, 'inventory-service'));
    expect(res.code).toBe(1);
    expect(res.body).toMatch(/^answer refused: the answer was not made for this request/);
    expect(res.body).not.toContain('captured');
  });

  it('an answer sealed for its nonce but another status (202 sent as 200): exits 1', async () => {
    answer = (nonce) => sealed(nonce, 202);
    const res = await pythonCaller(PYTHON_ENCRYPTED_CALLER, [url, ORDER], callerEnv(credential, 'inventory-service'));
    expect(res.code).toBe(1);
    expect(res.body).toMatch(/^answer refused: the answer was not made for this status/);
    expect(res.body).not.toContain('captured');
  });

  it('an empty 200 (any answer replaced in transit): exits 1', async () => {
    answer = () => ({ status: 200 });
    const res = await pythonCaller(PYTHON_ENCRYPTED_CALLER, [url, ORDER], callerEnv(credential, 'inventory-service'));
    expect(res.code).toBe(1);
    expect(res.body).toMatch(/^answer refused: a successful answer to an encrypted request must be encrypted/);
  });

  it('control: sealed for its nonce and its status: exits 0 with the answer', async () => {
    answer = (nonce) => sealed(nonce, 200);
    const res = await pythonCaller(PYTHON_ENCRYPTED_CALLER, [url, ORDER], callerEnv(credential, 'inventory-service'));
    expect([res.code, res.status, json(res.body)]).toEqual([0, 200, { message: 'captured' }]);
  });
});
