/**
 * The `nest-service-auth` command, run in this process (test/cli.e2e-spec.ts runs it as a process):
 * what keygen and rotate print is loaded the way services load it (EnvKeyProvider, then KeyRing),
 * and a request signed by the caller's side verifies on the callee's side at every step.
 */
import { describe, expect, it } from '@jest/globals';
import { parseEnvBlocks } from '../../../../test/support/env-lines.js';
import { EnvKeyProvider } from '../keys/env-key-provider.js';
import { KeyRing } from '../keys/key-ring.js';
import { httpMessage } from '../protocol/http-message.js';
import { RequestVerifier } from '../protocol/request-verifier.js';
import { signRequest } from '../protocol/request-signer.js';
import { MemoryNonceStore } from '../replay/memory-nonce-store.js';
import { encryptCompact, decryptCompact } from '../crypto/jwe-compact.js';
import { decryptEcdhEs, encryptEcdhEs } from '../crypto/ecdh-es-jwe.js';
import { EXIT_OK, EXIT_REFUSED, EXIT_USAGE, runCli, USAGE, type KeygenJson, type RotationJson } from './run-cli.js';
import { asHmacKey } from '../keys/key-ring.js';

interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[], options: { env?: Record<string, string>; stdin?: string } = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const status = await runCli(args, {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    env: options.env ?? {},
    readStdin: async () => options.stdin ?? '',
    now: () => new Date('2026-11-05T10:00:00Z'),
  });
  return { status, stdout, stderr };
}

function ring(env: Record<string, string>, serviceId: string): KeyRing {
  return KeyRing.from(new EnvKeyProvider({ get: (name) => env[name] }).load(), serviceId);
}

/** Signs a POST as the caller's ring would (its current key for inventory-service), verifies it with the callee's ring. */
async function callAcross(caller: KeyRing, callee: KeyRing): Promise<{ caller: string; keyId: string }> {
  const upstream = caller.upstream('inventory-service')!;
  const body = Buffer.from('{"productId":"P123","quantity":2}');
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const url = new URL(`${upstream.url}/inventory?dry=1`);
  Object.assign(headers, signRequest({ method: 'POST', url, headers, body }, upstream.keys[0]));
  const verifier = new RequestVerifier(() => callee, new MemoryNonceStore(), { audience: callee.serviceId });
  const { caller: verified } = await verifier.verify(httpMessage({ method: 'POST', target: url.pathname + url.search, headers }), body);
  return { caller: verified.id, keyId: verified.keyId };
}

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => 'accepted',
    (err: { reason?: string }) => err.reason,
  );

describe('nest-service-auth keygen', () => {
  it('prints both ends of the pair; loaded by each service, a request the caller signs verifies at the callee', async () => {
    const run = await cli(['keygen', 'order-service', 'inventory-service', '--url', 'http://inventory:8082']);
    expect(run.status).toBe(EXIT_OK);
    expect(run.stderr).toBe('');
    const [callerEnv, calleeEnv] = parseEnvBlocks(run.stdout);
    expect(Object.keys(callerEnv)).toEqual([
      'SERVICE_AUTH_UPSTREAMS',
      'SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_URL',
      'SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_KEYS',
    ]);
    expect(callerEnv.SERVICE_AUTH_UPSTREAMS).toBe('inventory-service');
    expect(callerEnv.SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_URL).toBe('http://inventory:8082');
    expect(callerEnv.SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_KEYS).toMatch(
      /^order-service-2026-11-[0-9a-f]{6}:sk_[A-Za-z0-9_-]{43}:[A-Za-z0-9_-]{43}$/,
    );
    expect(calleeEnv).toEqual({
      SERVICE_AUTH_CALLERS: 'order-service',
      SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS: callerEnv.SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_KEYS,
    });

    const caller = ring(callerEnv, 'order-service');
    const callee = ring(calleeEnv, 'inventory-service');
    const keyId = callerEnv.SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_KEYS.split(':')[0];
    expect(await callAcross(caller, callee)).toEqual({ caller: 'order-service', keyId });
    // …and the encryption keys agree too: what the caller seals, the callee opens.
    const jwe = encryptCompact(Buffer.from('{"sku":"P-1"}'), asHmacKey(caller.upstream('inventory-service')!.keys[0]).encryptionKey, {
      kid: keyId,
    });
    expect(decryptCompact(jwe, (kid) => asHmacKey(callee.findCallerKey('order-service', kid)).encryptionKey).plaintext.toString()).toBe(
      '{"sku":"P-1"}',
    );
  });

  it('without --url, puts a placeholder under .invalid there and says so on standard error, without a secret', async () => {
    const run = await cli(['keygen', 'order-service', 'inventory-service']);
    expect(run.status).toBe(EXIT_OK);
    const [callerEnv] = parseEnvBlocks(run.stdout);
    expect(callerEnv.SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_URL).toBe('http://inventory-service.invalid');
    expect(run.stdout).toContain(
      "# A placeholder: set inventory-service's base URL here (or run keygen with --url).\nSERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_URL=",
    );
    expect(run.stderr).toBe(
      "nest-service-auth: SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_URL is a placeholder (http://inventory-service.invalid): set inventory-service's URL there, or pass --url\n",
    );
    const [, apiKey, secret] = callerEnv.SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_KEYS.split(':');
    expect(run.stderr).not.toContain(apiKey);
    expect(run.stderr).not.toContain(secret);
  });

  it('--json prints the same as one object', async () => {
    const run = await cli([
      'keygen',
      'order-service',
      'inventory-service',
      '--json',
      '--key-id',
      'order-2026-11',
      '--url',
      'https://inventory.internal/api',
    ]);
    expect(run.status).toBe(EXIT_OK);
    const out = JSON.parse(run.stdout) as KeygenJson;
    expect(out).toEqual({
      caller: 'order-service',
      callee: 'inventory-service',
      algorithm: 'hmac-sha256',
      key: {
        id: 'order-2026-11',
        apiKey: expect.stringMatching(/^sk_[A-Za-z0-9_-]{43}$/),
        secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      },
      url: 'https://inventory.internal/api',
      urlIsPlaceholder: false,
      callerEnv: {
        SERVICE_AUTH_UPSTREAMS: 'inventory-service',
        SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_URL: 'https://inventory.internal/api',
        SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_KEYS: `order-2026-11:${out.key.apiKey}:${out.key.secret}`,
      },
      calleeEnv: {
        SERVICE_AUTH_CALLERS: 'order-service',
        SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS: `order-2026-11:${out.key.apiKey}:${out.key.secret}`,
      },
    });
    expect(await callAcross(ring(out.callerEnv, 'order-service'), ring(out.calleeEnv, 'inventory-service'))).toEqual({
      caller: 'order-service',
      keyId: 'order-2026-11',
    });
  });

  it('--prefix names the variables as EnvKeyProvider({ prefix }) reads them', async () => {
    const run = await cli(['keygen', 'order-service', 'inventory-service', '--prefix', 'AUTH', '--json']);
    const { callerEnv, calleeEnv } = JSON.parse(run.stdout) as KeygenJson;
    expect(Object.keys(callerEnv)).toEqual([
      'AUTH_UPSTREAMS',
      'AUTH_UPSTREAM_INVENTORY_SERVICE_URL',
      'AUTH_UPSTREAM_INVENTORY_SERVICE_KEYS',
    ]);
    expect(Object.keys(calleeEnv)).toEqual(['AUTH_CALLERS', 'AUTH_CALLER_ORDER_SERVICE_KEYS']);
    expect(run.stderr).toContain('AUTH_UPSTREAM_INVENTORY_SERVICE_URL is a placeholder');
  });

  it('--alg ed25519: the caller gets its private key, the callee only the public key and an answer key of its own', async () => {
    const run = await cli(['keygen', 'order-service', 'inventory-service', '--alg', 'ed25519', '--key-id', 'order-ed-1', '--json']);
    expect([run.status, run.stderr.includes('placeholder')]).toEqual([EXIT_OK, true]);
    const out = JSON.parse(run.stdout) as KeygenJson;
    expect(out.algorithm).toBe('ed25519');
    const callerKeys = out.callerEnv.SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_KEYS;
    const calleeKeys = out.calleeEnv.SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS;
    expect(callerKeys).toBe(`order-ed-1:${out.key.apiKey}:ed25519:${out.key.secret}`);
    expect(calleeKeys).toBe(`order-ed-1:${out.key.apiKey}:ed25519:${out.key.publicKey}`);
    // The private key (PKCS#8, 48 bytes) is on the caller only; the callee holds nothing that signs as it.
    expect(Buffer.from(out.key.secret, 'base64url')).toHaveLength(48);
    expect(Buffer.from(out.key.publicKey!, 'base64url')).toHaveLength(44);
    expect(JSON.stringify(out.calleeEnv)).not.toContain(out.key.secret);
    // The callee's answer key: private on the callee, public on the caller.
    expect(out.calleeEnv.SERVICE_AUTH_ANSWER_KEYS).toBe(`${out.answerKey!.id}:ed25519:${out.answerKey!.privateKey}`);
    expect(out.callerEnv.SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_ANSWER_KEYS).toBe(
      `${out.answerKey!.id}:ed25519:${out.answerKey!.publicKey}`,
    );
    expect(JSON.stringify(out.callerEnv)).not.toContain(out.answerKey!.privateKey);
    // …and its X25519 encryption key, that the caller encrypts bodies to.
    expect(out.calleeEnv.SERVICE_AUTH_ENCRYPTION_KEYS).toBe(`${out.encryptionKey!.id}:x25519:${out.encryptionKey!.privateKey}`);
    expect(out.callerEnv.SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_ENCRYPTION_KEYS).toBe(
      `${out.encryptionKey!.id}:x25519:${out.encryptionKey!.publicKey}`,
    );
    expect(JSON.stringify(out.callerEnv)).not.toContain(out.encryptionKey!.privateKey);

    const caller = ring(out.callerEnv, 'order-service');
    const callee = ring(out.calleeEnv, 'inventory-service');
    const held = callee.findCallerKey('order-service', 'order-ed-1');
    expect(held?.algorithm).toBe('ed25519');
    expect(held && 'privateKey' in held ? held.privateKey : undefined).toBeUndefined();
    expect(await callAcross(caller, callee)).toEqual({ caller: 'order-service', keyId: 'order-ed-1' });
    // What the caller encrypts to its upstream's key, the callee opens with its own.
    const recipient = caller.upstream('inventory-service')!.encryptionKeys[0];
    const { jwe } = encryptEcdhEs(Buffer.from('{"sku":"P-1"}'), recipient.publicKey, { kid: recipient.id });
    expect(decryptEcdhEs(jwe, (kid) => callee.findEncryptionKey(kid)?.privateKey).plaintext.toString()).toBe('{"sku":"P-1"}');

    const text = await cli(['keygen', 'order-service', 'inventory-service', '--alg', 'ed25519']);
    expect(text.stdout).toContain('# One block per service. Each holds its own private key only');
    expect(text.stdout).toMatch(/\nSERVICE_AUTH_ANSWER_KEYS=/);
  });

  it('--alg refuses an algorithm it does not know, with exit status 2', async () => {
    const run = await cli(['keygen', 'order-service', 'inventory-service', '--alg', 'rsa-pss-sha512']);
    expect([run.status, run.stdout]).toEqual([EXIT_USAGE, '']);
    expect(run.stderr).toMatch(/--alg is hmac-sha256 or ed25519/);
    const onRotate = await cli(['rotate', 'order-service', 'inventory-service', '--alg', 'ed25519', '--current', 'x']);
    expect(onRotate.status).toBe(EXIT_USAGE);
    expect(onRotate.stderr).toMatch(/--alg is an option of keygen/);
  });

  it.each([
    [['keygen', 'order service', 'inventory-service'], /<caller-id> must be a service id/],
    [['keygen', 'order-service', 'inventory/service'], /<callee-id> must be a service id/],
    [['keygen', 'order-service', 'order-service'], /a credential is for calls from one service to another/],
    [
      ['keygen', 'order-service', 'inventory-service', '--url', 'ftp://inventory'],
      /SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_URL.*url must be an absolute http/,
    ],
    [['keygen', 'order-service', 'inventory-service', '--url', 'http://user:pw@inventory'], /without credentials, query or fragment/],
    [['keygen', 'order-service', 'inventory-service', '--key-id', 'a:b'], /key id must be/],
  ])('refuses %j with a message and exit status 1, printing nothing on standard output', async (args, message) => {
    const run = await cli(args);
    expect(run.status).toBe(EXIT_REFUSED);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toMatch(/^nest-service-auth: [^\n]+\n$/);
  });
});

describe('nest-service-auth rotate', () => {
  async function currentPair() {
    const { stdout } = await cli([
      'keygen',
      'order-service',
      'inventory-service',
      '--json',
      '--url',
      'http://inventory:8082',
      '--key-id',
      'order-2026-10',
    ]);
    return JSON.parse(stdout) as KeygenJson;
  }

  it('prints the next key and three steps; every state of the rollout verifies, and the old key is refused at the end', async () => {
    const pair = await currentPair();
    const current = pair.calleeEnv.SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS;
    const run = await cli(['rotate', 'order-service', 'inventory-service', '--current', current]);
    expect(run.status).toBe(EXIT_OK);
    expect(run.stderr).toBe('');
    const steps = parseEnvBlocks(run.stdout);
    expect(steps).toHaveLength(3);
    const next = steps[2].SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS;
    expect(next).toMatch(/^order-service-2026-11-[0-9a-f]{6}:sk_[A-Za-z0-9_-]{43}:[A-Za-z0-9_-]{43}$/);
    expect(steps).toEqual([
      { SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS: `${current},${next}` },
      { SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_KEYS: `${next},${current}` },
      { SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS: next },
    ]);
    const nextId = next.split(':')[0];
    expect(run.stdout).toMatch(
      new RegExp(`^# nest-service-auth rotate: order-service -> inventory-service, key ${nextId} replaces order-2026-10\n`),
    );
    expect(run.stdout).toContain('# Step 1 of 3: inventory-service (the callee) accepts both keys.\n');
    expect(run.stdout).toContain('# Step 2 of 3: order-service (the caller) signs with the new key');
    expect(run.stdout).toContain('# Step 3 of 3: inventory-service (the callee) retires the old key.\n');

    // The rollout, one service at a time: the caller's requests verify before and after every step.
    let callerEnv = pair.callerEnv;
    let calleeEnv = pair.calleeEnv;
    const expectCallsWork = async (keyId: string) =>
      expect(await callAcross(ring(callerEnv, 'order-service'), ring(calleeEnv, 'inventory-service'))).toEqual({
        caller: 'order-service',
        keyId,
      });
    await expectCallsWork('order-2026-10');
    calleeEnv = { ...calleeEnv, ...steps[0] };
    await expectCallsWork('order-2026-10');
    callerEnv = { ...callerEnv, ...steps[1] };
    await expectCallsWork(nextId);
    const beforeStep3 = ring(calleeEnv, 'inventory-service');
    calleeEnv = { ...calleeEnv, ...steps[2] };
    await expectCallsWork(nextId);
    // A caller still signing with the old key (step 2 not applied) is refused once step 3 is.
    expect(await refusal(callAcross(ring(pair.callerEnv, 'order-service'), ring(calleeEnv, 'inventory-service')))).toBe('api_key_invalid');
    expect(await callAcross(ring(pair.callerEnv, 'order-service'), beforeStep3)).toEqual({
      caller: 'order-service',
      keyId: 'order-2026-10',
    });
  });

  it("reads the current key from the caller's or the callee's variable, or from standard input", async () => {
    const pair = await currentPair();
    const current = pair.calleeEnv.SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS;
    const stepOne = (run: Run) => parseEnvBlocks(run.stdout)[0].SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS.split(',')[0];
    for (const run of [
      await cli(['rotate', 'order-service', 'inventory-service'], { env: pair.callerEnv }),
      await cli(['rotate', 'order-service', 'inventory-service'], { env: pair.calleeEnv }),
      await cli(['rotate', 'order-service', 'inventory-service'], { env: { ...pair.callerEnv, ...pair.calleeEnv } }),
      await cli(['rotate', 'order-service', 'inventory-service', '--from-env', 'callee'], { env: pair.calleeEnv }),
      await cli(['rotate', 'order-service', 'inventory-service', '--current', '-'], { stdin: `${current}\n` }),
    ]) {
      expect([run.status, run.stderr]).toEqual([EXIT_OK, '']);
      expect(stepOne(run)).toBe(current);
    }
  });

  it('--json prints the plan as one object', async () => {
    const pair = await currentPair();
    const current = pair.callerEnv.SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_KEYS;
    const run = await cli(['rotate', 'order-service', 'inventory-service', '--current', current, '--key-id', 'order-2026-11', '--json']);
    const plan = JSON.parse(run.stdout) as RotationJson;
    const next = `order-2026-11:${plan.key.apiKey}:${plan.key.secret}`;
    expect(plan).toEqual({
      caller: 'order-service',
      callee: 'inventory-service',
      previousKeyId: 'order-2026-10',
      key: { id: 'order-2026-11', apiKey: expect.any(String), secret: expect.any(String) },
      steps: [
        {
          service: 'inventory-service',
          side: 'callee',
          variable: 'SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS',
          value: `${current},${next}`,
          effect: 'accepts both keys',
        },
        {
          service: 'order-service',
          side: 'caller',
          variable: 'SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_KEYS',
          value: `${next},${current}`,
          effect: 'signs with the new key (the old one stays second, for answers still in flight)',
        },
        {
          service: 'inventory-service',
          side: 'callee',
          variable: 'SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS',
          value: next,
          effect: 'retires the old key',
        },
      ],
    });
  });

  it('refuses a list of two keys (a rotation under way), a current key the key ring would refuse, and a new id equal to the current one', async () => {
    const pair = await currentPair();
    const current = pair.calleeEnv.SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS;
    const other = (await currentPair()).calleeEnv.SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS.replace('order-2026-10', 'order-2026-09');

    const underWay = await cli(['rotate', 'order-service', 'inventory-service', '--current', `${current},${other}`]);
    expect([underWay.status, underWay.stdout]).toEqual([EXIT_REFUSED, '']);
    expect(underWay.stderr).toMatch(/--current holds 2 keys, so a rotation is already under way/);

    const shortSecret = current.replace(/:[^:]+$/, ':c2hvcnQ');
    const weak = await cli(['rotate', 'order-service', 'inventory-service', '--current', shortSecret]);
    expect([weak.status, weak.stdout]).toEqual([EXIT_REFUSED, '']);
    expect(weak.stderr).toMatch(/--current, entry 1, part 3 \(secret\) is 5 bytes; at least 32 are required/);
    expect(weak.stderr).not.toContain(pair.key.apiKey);

    const sameId = await cli(['rotate', 'order-service', 'inventory-service', '--current', current, '--key-id', 'order-2026-10']);
    expect([sameId.status, sameId.stdout]).toEqual([EXIT_REFUSED, '']);
    expect(sameId.stderr).toMatch(/needs an id other than the current one's/);

    const malformed = await cli(['rotate', 'order-service', 'inventory-service', '--current', 'order-2026-10'], {});
    expect(malformed.status).toBe(EXIT_REFUSED);
    expect(malformed.stderr).toMatch(/--current: entry 1 must have the form keyId:apiKey:secret/);
  });

  it('asks which side to read when both are set and differ, and says which variables it looked for when neither is', async () => {
    const a = await currentPair();
    const b = await currentPair();
    const both = await cli(['rotate', 'order-service', 'inventory-service'], { env: { ...a.callerEnv, ...b.calleeEnv } });
    expect([both.status, both.stdout]).toEqual([EXIT_USAGE, '']);
    expect(both.stderr).toMatch(/are both set, and differ: choose one with --from-env caller or --from-env callee/);
    const none = await cli(['rotate', 'order-service', 'inventory-service']);
    expect(none.status).toBe(EXIT_USAGE);
    expect(none.stderr).toMatch(
      /set SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_KEYS \(the caller's\) or SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS \(the callee's\)/,
    );
    const unset = await cli(['rotate', 'order-service', 'inventory-service', '--from-env', 'caller'], { env: a.calleeEnv });
    expect([unset.status, unset.stderr]).toEqual([
      EXIT_REFUSED,
      'nest-service-auth: SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_KEYS is not set (--from-env caller)\n',
    ]);
  });
});

describe('nest-service-auth rotate, an ed25519 pair', () => {
  async function currentEd25519Pair() {
    const { stdout } = await cli(['keygen', 'order-service', 'inventory-service', '--alg', 'ed25519', '--json', '--key-id', 'order-ed-10']);
    return JSON.parse(stdout) as KeygenJson;
  }

  it('from either side: the callee accepts both public keys, the caller signs with the new private key, the callee retires the old one', async () => {
    const pair = await currentEd25519Pair();
    const fromCaller = await cli(['rotate', 'order-service', 'inventory-service', '--key-id', 'order-ed-11', '--json'], {
      env: pair.callerEnv,
    });
    const fromCallee = await cli(['rotate', 'order-service', 'inventory-service', '--key-id', 'order-ed-11', '--json'], {
      env: pair.calleeEnv,
    });
    for (const run of [fromCaller, fromCallee]) expect([run.status, run.stderr]).toEqual([EXIT_OK, '']);
    // Both read the same current public key (the caller's side derives it from the private key).
    const planA = JSON.parse(fromCaller.stdout) as RotationJson;
    const planB = JSON.parse(fromCallee.stdout) as RotationJson;
    expect(planA.steps[0].value.split(',')[0]).toBe(pair.calleeEnv.SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS);
    expect(planB.steps[0].value.split(',')[0]).toBe(pair.calleeEnv.SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS);

    const plan = planA;
    expect(plan.steps.map((step) => [step.service, step.variable])).toEqual([
      ['inventory-service', 'SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS'],
      ['order-service', 'SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_KEYS'],
      ['inventory-service', 'SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS'],
    ]);
    // No private key ever goes to the callee.
    for (const step of plan.steps.filter((s) => s.side === 'callee')) {
      for (const entry of step.value.split(',')) expect(Buffer.from(entry.split(':')[3], 'base64url')).toHaveLength(44);
    }
    expect(plan.steps[1].value).toBe(`order-ed-11:${plan.key.apiKey}:ed25519:${plan.key.secret}`);

    let callerEnv = pair.callerEnv;
    let calleeEnv = pair.calleeEnv;
    const calls = () => callAcross(ring(callerEnv, 'order-service'), ring(calleeEnv, 'inventory-service'));
    expect(await calls()).toEqual({ caller: 'order-service', keyId: 'order-ed-10' });
    calleeEnv = { ...calleeEnv, [plan.steps[0].variable]: plan.steps[0].value };
    expect(await calls()).toEqual({ caller: 'order-service', keyId: 'order-ed-10' });
    callerEnv = { ...callerEnv, [plan.steps[1].variable]: plan.steps[1].value };
    expect(await calls()).toEqual({ caller: 'order-service', keyId: 'order-ed-11' });
    calleeEnv = { ...calleeEnv, [plan.steps[2].variable]: plan.steps[2].value };
    expect(await calls()).toEqual({ caller: 'order-service', keyId: 'order-ed-11' });
    expect(await refusal(callAcross(ring(pair.callerEnv, 'order-service'), ring(calleeEnv, 'inventory-service')))).toBe('api_key_invalid');
  });

  it('refuses a current ed25519 key that is not an Ed25519 key, without echoing it', async () => {
    const pair = await currentEd25519Pair();
    const bogus = `order-ed-10:${pair.key.apiKey}:ed25519:${Buffer.alloc(44, 7).toString('base64url')}`;
    const run = await cli(['rotate', 'order-service', 'inventory-service', '--current', bogus]);
    expect([run.status, run.stdout]).toEqual([EXIT_REFUSED, '']);
    expect(run.stderr).toMatch(/--current: the current key is not an Ed25519 key/);
    expect(run.stderr).not.toContain(pair.key.apiKey);
  });
});

describe('nest-service-auth command line', () => {
  it('--help prints the usage on standard output', async () => {
    for (const args of [['--help'], ['-h'], ['help'], ['keygen', '--help']])
      expect(await cli(args)).toEqual({ status: EXIT_OK, stdout: USAGE, stderr: '' });
  });

  it.each([
    [[], /a command is missing/],
    [['genkey', 'a', 'b'], /unknown command: the commands are keygen and rotate/],
    [['keygen', 'a'], /keygen takes two arguments/],
    [['keygen', 'a', 'b', 'c'], /keygen takes two arguments/],
    [['keygen', 'a', 'b', '--verbose'], /Unknown option '--verbose'/],
    [['keygen', 'a', 'b', '--current', 'x'], /--current is an option of rotate/],
    [['rotate', 'a', 'b', '--url', 'http://b'], /--url is an option of keygen/],
    [['rotate', 'a', 'b', '--from-env', 'both'], /--from-env is "caller" or "callee"/],
    [['keygen', 'a', 'b', '--prefix', '9X'], /--prefix must be a variable name prefix/],
  ])('%j is a usage error: status 2, the message and the usage on standard error', async (args, message) => {
    const run = await cli(args);
    expect(run.status).toBe(EXIT_USAGE);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
    expect(run.stderr.endsWith(USAGE)).toBe(true);
  });

  it('never echoes a key typed where an argument was expected', async () => {
    const key = 'order-2026-10:sk_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG:c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI';
    for (const args of [[key], ['keygen', key, 'b'], ['keygen', 'a', 'b', key], ['rotate', 'a', 'b', key]]) {
      const run = await cli(args);
      expect(run.status).not.toBe(EXIT_OK);
      expect(run.stderr).not.toContain('sk_0123');
      expect(run.stderr).not.toContain('c2VjcmV0');
    }
  });

  it('never echoes a part of a current key given in the wrong order, and names the entry by position and part', async () => {
    const apiKey = 'sk_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG';
    const secret = 'c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI';
    const cases: Array<[string, RegExp]> = [
      [`${secret}:${apiKey}:order-2026-10`, /--current, entry 1, part 3 \(secret\)/],
      [`order-2026-10:${secret}:${apiKey}`, /--current, entry 1, part 2 \(API key\) looks like a secret/],
      [`${secret}:x:order-2026-10`, /--current, entry 1, part 2 \(API key\)/],
    ];
    for (const [current, reason] of cases) {
      const run = await cli(['rotate', 'order-service', 'inventory-service', '--current', current]);
      expect([run.status, run.stdout]).toEqual([EXIT_REFUSED, '']);
      expect(run.stderr).toMatch(reason);
      expect(run.stderr).not.toContain('sk_0123');
      expect(run.stderr).not.toContain('c2VjcmV0');
    }
  });
});
