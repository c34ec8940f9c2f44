import { describe, it, expect, beforeEach } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { KeyRing, type ResolvedKey } from '../keys/key-ring.js';
import { MemoryNonceStore } from '../replay/memory-nonce-store.js';
import { NonceBudgetExhaustedError } from '../errors/nonce-budget-exhausted.error.js';
import type { NonceClaim, NonceStore } from '../replay/nonce-store.interface.js';
import { ReplayStoreUnavailableError } from '../errors/replay-store-unavailable.error.js';
import { createContentDigest } from './content-digest.js';
import { hmacSha256 } from './hmac-sha256.js';
import { httpMessage, type HttpMessage } from './http-message.js';
import { signRequest, type SigningCredential, type SignRequestOptions } from './request-signer.js';
import { RequestVerifier, type RequestVerifierOptions, type TrustPolicy } from './request-verifier.js';
import { ServiceAuthError } from '../errors/service-auth.error.js';
import { buildSignatureBase } from './signature-base.js';
import type { SignatureParameters } from './parsed-signature.js';
import { serializeSignatureParams } from './signature-fields.js';
import { rejectedReasonOf } from '../../test/refusal-of.js';
import { asHmacKey } from '../keys/key-ring.js';

const secret = () => randomBytes(32).toString('base64url');
const apiKey = () => 'sk_' + randomBytes(32).toString('base64url');
const nonce = () => randomBytes(16).toString('base64url');

/** This service: every signature it accepts must name it in `tag`. */
const AUDIENCE = 'inventory-service';

const ring = KeyRing.from(
  {
    callers: [
      {
        id: 'order-service',
        keys: [
          { id: 'k1', apiKey: apiKey(), secret: secret() },
          { id: 'k2', apiKey: apiKey(), secret: secret() },
        ],
      },
      { id: 'billing-service', keys: [{ id: 'b1', apiKey: apiKey(), secret: secret() }] },
    ],
  },
  AUDIENCE,
);
const K1 = ring.findCallerKey('order-service', 'k1')!;
const K2 = ring.findCallerKey('order-service', 'k2')!;
const B1 = ring.findCallerKey('billing-service', 'b1')!;

const NOW_S = 1_700_000_000;
const NOW_MS = NOW_S * 1000 + 250; // arrival is not on a whole second
const ORIGIN = 'https://inventory.internal';
const JSON_BODY = Buffer.from('{"sku":"A-1","quantity":3}');

interface Req {
  method: string;
  target: string;
  headers: Record<string, string>;
  body: Uint8Array;
}

/** A request signed by the library's own signer; `message` is what the verifier sees. */
function signed(
  init: { method?: string; target?: string; headers?: Record<string, string>; body?: Uint8Array } = {},
  credential: SigningCredential = K1,
  options: SignRequestOptions = {},
): Req {
  const method = init.method ?? 'GET';
  const target = init.target ?? '/items?sku=A-1';
  const body = init.body ?? new Uint8Array(0);
  const headers = { ...(init.headers ?? {}) };
  const added = signRequest({ method, url: ORIGIN + target, headers, body }, credential, { created: NOW_S, ...options });
  return { method, target, headers: { ...headers, ...added }, body };
}

/**
 * A request signed by hand: any components and parameters, with a correct HMAC over them, so a refusal
 * comes from the policy (coverage, parameters) and not from a broken signature.
 */
function handSigned(
  components: string[],
  params: SignatureParameters,
  init: { method?: string; target?: string; headers?: Record<string, string>; body?: Uint8Array } = {},
  key: ResolvedKey = K1,
): Req {
  const method = init.method ?? 'GET';
  const target = init.target ?? '/items?sku=A-1';
  const body = init.body ?? new Uint8Array(0);
  const headers: Record<string, string> = { 'x-api-key': key.apiKey, ...(init.headers ?? {}) };
  const signatureParams = serializeSignatureParams(components, params);
  const signature = hmacSha256(
    asHmacKey(key).hmacKey,
    buildSignatureBase(httpMessage({ method, target, headers }), components, signatureParams),
  );
  headers['signature-input'] = `sig1=${signatureParams}`;
  headers['signature'] = `sig1=:${signature.toString('base64')}:`;
  return { method, target, headers, body };
}

const fullParams = (over: Partial<SignatureParameters> = {}): SignatureParameters => ({
  created: NOW_S,
  nonce: nonce(),
  keyid: 'k1',
  alg: 'hmac-sha256',
  tag: AUDIENCE,
  ...over,
});
const REQUIRED = ['@method', '@path', '@query', 'x-api-key'];

const messageOf = (req: Req, over: Partial<Req> = {}): HttpMessage => {
  const r = { ...req, ...over };
  return httpMessage({ method: r.method, target: r.target, headers: r.headers });
};

class RecordingStore implements NonceStore {
  readonly claims: Array<NonceClaim & { expiresAtMs: number }> = [];
  readonly inner = new MemoryNonceStore({ now: () => NOW_MS });
  claim(claim: NonceClaim, expiresAtMs: number): Promise<boolean> {
    this.claims.push({ ...claim, expiresAtMs });
    return this.inner.claim(claim, expiresAtMs);
  }
}

let store: RecordingStore;
let verifier: RequestVerifier;

function makeVerifier(options: Partial<RequestVerifierOptions> = {}, nonces: NonceStore = store): RequestVerifier {
  return new RequestVerifier(() => ring, nonces, { audience: AUDIENCE, now: () => NOW_MS, ...options });
}

async function verify(req: Req, isTrusted?: TrustPolicy, v: RequestVerifier = verifier, body: Uint8Array = req.body) {
  return (await v.verify(messageOf(req), body, { isTrusted })).caller;
}

beforeEach(() => {
  store = new RecordingStore();
  verifier = makeVerifier();
});

describe('RequestVerifier: accepted requests', () => {
  it('accepts a signed GET and returns caller id, key id, nonce and created', async () => {
    const req = signed({}, K1, { nonce: 'n'.repeat(22) });
    await expect(verify(req)).resolves.toEqual({ id: 'order-service', keyId: 'k1', nonce: 'n'.repeat(22), created: NOW_S });
    expect(store.claims).toHaveLength(1);
  });

  it('hands back the key object it verified with, as the ring held it then', async () => {
    const req = signed({}, K2, { nonce: 'm'.repeat(22) });
    const verified = await verifier.verify(messageOf(req), req.body);
    expect(verified.caller).toEqual({ id: 'order-service', keyId: 'k2', nonce: 'm'.repeat(22), created: NOW_S });
    expect(verified.key).toBe(K2);
  });

  it('accepts a signed POST with a JSON body', async () => {
    const req = signed({ method: 'POST', target: '/orders', headers: { 'content-type': 'application/json' }, body: JSON_BODY }, B1);
    const caller = await verify(req);
    expect(caller).toMatchObject({ id: 'billing-service', keyId: 'b1', created: NOW_S });
    expect(caller.nonce).toHaveLength(22);
  });

  it('accepts a query with percent-encoding and repeated parameters exactly as sent', async () => {
    await expect(verify(signed({ target: '/items?a=1&a=2&b=%20x' }))).resolves.toMatchObject({ id: 'order-service' });
  });

  it('accepts a hand-made signature over exactly the required components (control for the incomplete cases)', async () => {
    await expect(verify(handSigned(REQUIRED, fullParams()))).resolves.toMatchObject({ id: 'order-service', keyId: 'k1' });
  });

  it('accepts a covered idempotency-key', async () => {
    await expect(verify(signed({ method: 'POST', target: '/orders', headers: { 'idempotency-key': 'abc' } }))).resolves.toMatchObject({
      id: 'order-service',
    });
  });

  it('with several signatures, uses the one made with a key of the caller the API key names', async () => {
    const ours = handSigned(REQUIRED, fullParams());
    const foreign = handSigned(REQUIRED, fullParams({ keyid: 'b1' }), { headers: { 'x-api-key': K1.apiKey } }, B1);
    ours.headers['signature-input'] = `foreign=${foreign.headers['signature-input'].slice(5)}, ${ours.headers['signature-input']}`;
    ours.headers['signature'] = `foreign=${foreign.headers['signature'].slice(5)}, ${ours.headers['signature']}`;
    await expect(verify(ours)).resolves.toMatchObject({ id: 'order-service', keyId: 'k1' });
  });
});

describe('RequestVerifier: credentials', () => {
  it('no X-API-Key (or an empty one) is api_key_missing', async () => {
    const req = signed();
    const { ['x-api-key']: _, ...withoutKey } = req.headers;
    expect(await rejectedReasonOf(verify({ ...req, headers: withoutKey }))).toBe('api_key_missing');
    expect(await rejectedReasonOf(verify({ ...req, headers: { ...req.headers, 'x-api-key': '' } }))).toBe('api_key_missing');
  });

  it('an API key nobody holds is api_key_invalid, and so is a prefix or an extension of a valid one', async () => {
    const req = signed();
    expect(await rejectedReasonOf(verify({ ...req, headers: { ...req.headers, 'x-api-key': apiKey() } }))).toBe('api_key_invalid');
    expect(await rejectedReasonOf(verify({ ...req, headers: { ...req.headers, 'x-api-key': K1.apiKey.slice(0, -1) } }))).toBe(
      'api_key_invalid',
    );
    expect(await rejectedReasonOf(verify({ ...req, headers: { ...req.headers, 'x-api-key': K1.apiKey + 'x' } }))).toBe('api_key_invalid');
  });

  it('an invalid API key with a garbage body never reaches signature, digest or nonce checks', async () => {
    const accessed: PropertyKey[] = [];
    const garbage = Buffer.from('\u0000not json at all\u00ff');
    const spyBody = new Proxy(garbage, {
      get(target, prop) {
        accessed.push(prop);
        const value: unknown = Reflect.get(target, prop);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const req: Req = {
      method: 'POST',
      target: '/orders',
      headers: {
        'x-api-key': apiKey(),
        'content-type': 'application/json',
        'content-digest': 'sha-256=:AAAA:',
        'signature-input': '(((',
        signature: 'garbage',
      },
      body: garbage,
    };
    expect(await rejectedReasonOf(verify(req, undefined, verifier, spyBody))).toBe('api_key_invalid');
    expect(accessed).toEqual([]);
    expect(store.claims).toHaveLength(0);
  });

  it('no Signature-Input or no Signature is signature_missing', async () => {
    const req = signed();
    const { ['signature-input']: _i, ...noInput } = req.headers;
    const { signature: _s, ...noSignature } = req.headers;
    expect(await rejectedReasonOf(verify({ ...req, headers: noInput }))).toBe('signature_missing');
    expect(await rejectedReasonOf(verify({ ...req, headers: noSignature }))).toBe('signature_missing');
  });

  it('an unknown keyid is key_unknown', async () => {
    const req = signed({}, { id: 'k9', apiKey: K1.apiKey, hmacKey: asHmacKey(K1).hmacKey, audience: AUDIENCE });
    expect(await rejectedReasonOf(verify(req))).toBe('key_unknown');
  });

  it("a key id of ANOTHER caller is key_unknown, even with that caller's valid signature", async () => {
    // order-service's API key, but signed with billing-service's key b1 and naming it.
    const req = signed({}, { id: B1.id, apiKey: K1.apiKey, hmacKey: asHmacKey(B1).hmacKey, audience: AUDIENCE });
    expect(await rejectedReasonOf(verify(req))).toBe('key_unknown');
  });

  it("one credential's API key with another credential's key id and secret (same caller, both active) is key_unknown", async () => {
    // A correct HMAC under k2, naming k2, but presenting k1's API key: the three parts of a credential are bound.
    const req = signed({}, { id: K2.id, apiKey: K1.apiKey, hmacKey: asHmacKey(K2).hmacKey, audience: AUDIENCE });
    expect(await rejectedReasonOf(verify(req))).toBe('key_unknown');
    expect(store.claims).toEqual([]);
    await expect(verify(signed({}, K2))).resolves.toMatchObject({ keyId: 'k2' });
  });

  it('with several signatures naming the credential presented, the first in Signature-Input order is the one verified', async () => {
    const good = handSigned(REQUIRED, fullParams());
    const broken = handSigned(REQUIRED, fullParams(), {}, { ...asHmacKey(K1), hmacKey: asHmacKey(K2).hmacKey });
    const both = (first: Req, second: Req): Req => ({
      ...good,
      headers: {
        ...good.headers,
        'signature-input': `a=${first.headers['signature-input'].slice(5)}, b=${second.headers['signature-input'].slice(5)}`,
        signature: `a=${first.headers['signature'].slice(5)}, b=${second.headers['signature'].slice(5)}`,
      },
    });
    expect(await rejectedReasonOf(verify(both(broken, good)))).toBe('signature_invalid');
    await expect(verify(both(good, broken))).resolves.toMatchObject({ keyId: 'k1' });
  });

  it("a signature made with another of the caller's keys than keyid names is signature_invalid", async () => {
    const req = signed({}, { id: 'k1', apiKey: K1.apiKey, hmacKey: asHmacKey(K2).hmacKey, audience: AUDIENCE });
    expect(await rejectedReasonOf(verify(req))).toBe('signature_invalid');
  });

  it('an algorithm other than hmac-sha256 is signature_algorithm_unsupported', async () => {
    for (const alg of ['hmac-sha512', 'rsa-pss-sha512', 'ed25519', 'HMAC-SHA256', 'none', '']) {
      expect(await rejectedReasonOf(verify(handSigned(REQUIRED, fullParams({ alg }))))).toBe('signature_algorithm_unsupported');
    }
  });
});

describe('RequestVerifier: coverage (a valid signature over less is refused)', () => {
  for (const dropped of REQUIRED) {
    it(`not covering ${dropped} is signature_incomplete`, async () => {
      const req = handSigned(
        REQUIRED.filter((c) => c !== dropped),
        fullParams(),
      );
      expect(await rejectedReasonOf(verify(req))).toBe('signature_incomplete');
    });
  }

  it('a body with content-digest not covered is signature_incomplete', async () => {
    const headers = { 'content-type': 'application/json', 'content-digest': createContentDigest(JSON_BODY) };
    const req = handSigned([...REQUIRED, 'content-type'], fullParams(), { method: 'POST', headers, body: JSON_BODY });
    expect(await rejectedReasonOf(verify(req))).toBe('signature_incomplete');
  });

  it('a body with content-type not covered is signature_incomplete', async () => {
    const headers = { 'content-type': 'application/json', 'content-digest': createContentDigest(JSON_BODY) };
    const req = handSigned([...REQUIRED, 'content-digest'], fullParams(), { method: 'POST', headers, body: JSON_BODY });
    expect(await rejectedReasonOf(verify(req))).toBe('signature_incomplete');
  });

  it('a body covered by a hand-made signature over content-type and content-digest is accepted (control)', async () => {
    const headers = { 'content-type': 'application/json', 'content-digest': createContentDigest(JSON_BODY) };
    const req = handSigned([...REQUIRED, 'content-type', 'content-digest'], fullParams(), { method: 'POST', headers, body: JSON_BODY });
    await expect(verify(req)).resolves.toMatchObject({ id: 'order-service' });
  });

  it('a body added to a body-less signed request is signature_incomplete', async () => {
    const req = signed({ method: 'POST', target: '/orders', headers: { 'content-type': 'application/json' } });
    expect(await rejectedReasonOf(verify({ ...req, body: JSON_BODY }))).toBe('signature_incomplete');
  });

  it('an idempotency-key header present but not covered is signature_incomplete', async () => {
    const req = signed({ method: 'POST', target: '/orders' });
    expect(await rejectedReasonOf(verify({ ...req, headers: { ...req.headers, 'idempotency-key': 'abc' } }))).toBe('signature_incomplete');
  });

  it('a content-encoding header present but not covered is signature_incomplete', async () => {
    const req = signed();
    expect(await rejectedReasonOf(verify({ ...req, headers: { ...req.headers, 'content-encoding': 'identity' } }))).toBe(
      'signature_incomplete',
    );
  });

  it('options.requiredComponents adds to the minimum', async () => {
    const strict = makeVerifier({ requiredComponents: ['@authority'] });
    const msg = (req: Req) =>
      httpMessage({ method: req.method, target: req.target, authority: 'inventory.internal', headers: req.headers });
    await expect(rejectedReasonOf(strict.verify(msg(signed()), new Uint8Array(0)))).resolves.toBe('signature_incomplete');
    await expect(strict.verify(msg(signed({}, K1, { components: ['@authority'] })), new Uint8Array(0))).resolves.toMatchObject({
      caller: { id: 'order-service' },
    });
  });

  it('a call may require components beyond the options, for that request only', async () => {
    const versioned = (components?: string[]) =>
      messageOf(signed({ headers: { 'x-api-version': '2' } }, K1, components ? { components } : {}));
    const alsoVersion = { requiredComponents: ['x-api-version'] };
    expect(await rejectedReasonOf(verifier.verify(versioned(), new Uint8Array(0), alsoVersion))).toBe('signature_incomplete');
    await expect(verifier.verify(versioned([...REQUIRED, 'x-api-version']), new Uint8Array(0), alsoVersion)).resolves.toMatchObject({
      caller: { id: 'order-service' },
    });
    // The next call does not inherit them.
    await expect(verifier.verify(versioned(), new Uint8Array(0))).resolves.toMatchObject({ caller: { id: 'order-service' } });
  });

  it('an unsupported covered component is signature_malformed', async () => {
    // The signer cannot produce @status for a request, so the component is added to a valid Signature-Input.
    const req = handSigned(REQUIRED, fullParams());
    req.headers['signature-input'] = req.headers['signature-input'].replace('"x-api-key")', '"x-api-key" "@status")');
    expect(req.headers['signature-input']).toContain('"@status"');
    expect(await rejectedReasonOf(verify(req))).toBe('signature_malformed');
  });
});

describe('RequestVerifier: signature parameters', () => {
  for (const missing of ['created', 'nonce', 'keyid', 'alg', 'tag'] as const) {
    it(`a signature without ${missing} is signature_incomplete`, async () => {
      const params = fullParams();
      delete params[missing];
      expect(await rejectedReasonOf(verify(handSigned(REQUIRED, params)))).toBe('signature_incomplete');
    });
  }

  it('a nonce shorter than 22 characters (128 bits) is signature_malformed; 22 is accepted', async () => {
    expect(await rejectedReasonOf(verify(signed({}, K1, { nonce: 'short' })))).toBe('signature_malformed');
    expect(await rejectedReasonOf(verify(signed({}, K1, { nonce: 'a'.repeat(21) })))).toBe('signature_malformed');
    await expect(verify(signed({}, K1, { nonce: 'a'.repeat(22) }))).resolves.toMatchObject({ nonce: 'a'.repeat(22) });
  });

  it('a nonce outside the base64url alphabet (padding, +, /, punctuation, spaces) is signature_malformed, and consumes nothing', async () => {
    for (const bad of [
      '3q2+7wAAAAAAAAAAAAAAAA',
      '3q2/7wAAAAAAAAAAAAAAAA',
      '3q2-7wAAAAAAAAAAAAAAAA==',
      '!'.repeat(22),
      'a b'.repeat(8),
      '~.'.repeat(11),
    ]) {
      expect(await rejectedReasonOf(verify(signed({}, K1, { nonce: bad })))).toBe('signature_malformed');
    }
    expect(store.claims).toEqual([]);
    const every = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    await expect(verify(signed({}, K1, { nonce: every }))).resolves.toMatchObject({ nonce: every });
  });

  it('a nonce longer than 128 characters is signature_malformed', async () => {
    expect(await rejectedReasonOf(verify(signed({}, K1, { nonce: 'a'.repeat(129) })))).toBe('signature_malformed');
  });

  it('hostile Signature-Input is signature_malformed, not an exception', async () => {
    const req = signed();
    expect(await rejectedReasonOf(verify({ ...req, headers: { ...req.headers, 'signature-input': 'sig1=("@method";req)' } }))).toBe(
      'signature_malformed',
    );
  });
});

describe('RequestVerifier: audience (tag)', () => {
  /** K1, but signing for another service: a valid signature whose tag names that service. */
  const forOtherService = (audience = 'billing-service'): SigningCredential => ({
    id: K1.id,
    apiKey: K1.apiKey,
    hmacKey: asHmacKey(K1).hmacKey,
    audience,
  });

  it("the library signer names the credential's audience in tag, and that is accepted (control)", async () => {
    const req = signed();
    expect(req.headers['signature-input']).toContain(`;tag="${AUDIENCE}"`);
    await expect(verify(req, () => true)).resolves.toMatchObject({ id: 'order-service', keyId: 'k1' });
  });

  it('a valid signature without tag is signature_incomplete, and consumes no nonce', async () => {
    const { tag: _, ...withoutTag } = fullParams();
    expect(await rejectedReasonOf(verify(handSigned(REQUIRED, withoutTag), () => true))).toBe('signature_incomplete');
    expect(store.claims).toHaveLength(0);
  });

  it('a valid signature of a trusted caller for another service is audience_mismatch, and consumes no nonce', async () => {
    const req = signed({}, forOtherService());
    expect(req.headers['signature-input']).toContain(';tag="billing-service"');
    const err = await verify(req, () => true).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ServiceAuthError);
    expect((err as ServiceAuthError).reason).toBe('audience_mismatch');
    expect((err as ServiceAuthError).status).toBe(401);
    expect(store.claims).toHaveLength(0);
    // The same request, signed for this service, passes: only the audience differed.
    await expect(verify(signed({}, K1), () => true)).resolves.toMatchObject({ id: 'order-service' });
  });

  it("the tag must be exactly this service's id (no case folding, no prefix, no padding, not empty)", async () => {
    for (const tag of [
      'Inventory-Service',
      'inventory-service ',
      ' inventory-service',
      'inventory',
      'inventory-service-2',
      'inventory-service.evil',
      '',
      'self',
    ]) {
      expect(await rejectedReasonOf(verify(handSigned(REQUIRED, fullParams({ tag })), () => true))).toBe('audience_mismatch');
    }
  });

  it('audience is checked right after alg: before key id, time window, nonce length and HMAC', async () => {
    const wrongTag = { tag: 'billing-service' };
    // unknown key id
    expect(await rejectedReasonOf(verify(handSigned(REQUIRED, fullParams({ ...wrongTag, keyid: 'k9' }))))).toBe('audience_mismatch');
    // far outside the time window
    expect(await rejectedReasonOf(verify(handSigned(REQUIRED, fullParams({ ...wrongTag, created: NOW_S - 10_000 }))))).toBe(
      'audience_mismatch',
    );
    // short nonce
    expect(await rejectedReasonOf(verify(handSigned(REQUIRED, fullParams({ ...wrongTag, nonce: 'short' }))))).toBe('audience_mismatch');
    // broken HMAC
    const broken = handSigned(REQUIRED, fullParams(wrongTag));
    broken.headers['signature'] = `sig1=:${Buffer.alloc(32).toString('base64')}:`;
    expect(await rejectedReasonOf(verify(broken))).toBe('audience_mismatch');
    // but an unsupported algorithm is reported first
    expect(await rejectedReasonOf(verify(handSigned(REQUIRED, fullParams({ ...wrongTag, alg: 'hmac-sha512' }))))).toBe(
      'signature_algorithm_unsupported',
    );
  });

  it("the tag is signed: rewriting another service's tag to this one is signature_invalid", async () => {
    const req = signed({}, forOtherService());
    req.headers['signature-input'] = req.headers['signature-input'].replace(';tag="billing-service"', `;tag="${AUDIENCE}"`);
    expect(req.headers['signature-input']).toContain(`;tag="${AUDIENCE}"`);
    expect(await rejectedReasonOf(verify(req, () => true))).toBe('signature_invalid');
    expect(store.claims).toHaveLength(0);
  });

  it('the refusal names no expected value to the caller; the received tag goes to the server log only', async () => {
    const req = signed({}, forOtherService('billing-service'));
    const err = (await verify(req).catch((e: unknown) => e)) as ServiceAuthError;
    expect(err.reason).toBe('audience_mismatch');
    expect(err.message).not.toContain(AUDIENCE);
    expect(err.detail).toContain('billing-service');
  });

  it("the verifier is for one audience: another service's verifier refuses what this one accepts", async () => {
    const billingVerifier = makeVerifier({ audience: 'billing-service' });
    const req = signed();
    expect(await rejectedReasonOf(verify(req, undefined, billingVerifier))).toBe('audience_mismatch');
    await expect(verify(req)).resolves.toMatchObject({ id: 'order-service' });
  });

  it('a verifier without an audience cannot be built', () => {
    for (const options of [{}, { audience: '' }, { audience: undefined }, undefined]) {
      expect(() => new RequestVerifier(() => ring, store, options as unknown as RequestVerifierOptions)).toThrow(/audience/);
    }
  });
});

describe('RequestVerifier: integrity', () => {
  it('a changed path is signature_invalid', async () => {
    const req = signed({ target: '/items/1?x=1' });
    expect(await rejectedReasonOf(verify({ ...req, target: '/items/2?x=1' }))).toBe('signature_invalid');
    expect(await rejectedReasonOf(verify({ ...req, target: '/items/1/?x=1' }))).toBe('signature_invalid');
    expect(await rejectedReasonOf(verify({ ...req, target: '/Items/1?x=1' }))).toBe('signature_invalid');
  });

  it('a changed query is signature_invalid (value, order, encoding, removal)', async () => {
    const req = signed({ target: '/items?a=1&b=2' });
    for (const target of ['/items?a=1&b=3', '/items?b=2&a=1', '/items?a=%31&b=2', '/items', '/items?a=1&b=2&c=3']) {
      expect(await rejectedReasonOf(verify({ ...req, target }))).toBe('signature_invalid');
    }
  });

  it('a changed method is signature_invalid', async () => {
    const req = signed({ method: 'GET' });
    expect(await rejectedReasonOf(verify({ ...req, method: 'DELETE' }))).toBe('signature_invalid');
  });

  it('a changed signature byte is signature_invalid', async () => {
    const req = signed();
    const sig = Buffer.from(req.headers.signature.slice('sig1=:'.length, -1), 'base64');
    sig[0] ^= 1;
    expect(await rejectedReasonOf(verify({ ...req, headers: { ...req.headers, signature: `sig1=:${sig.toString('base64')}:` } }))).toBe(
      'signature_invalid',
    );
  });

  it('a tampered body is digest_mismatch', async () => {
    const req = signed({ method: 'POST', target: '/orders', headers: { 'content-type': 'application/json' }, body: JSON_BODY });
    expect(await rejectedReasonOf(verify({ ...req, body: Buffer.from('{"sku":"A-1","quantity":9}') }))).toBe('digest_mismatch');
    expect(store.claims).toHaveLength(0);
  });

  it('a body present, content-digest covered but the header absent is digest_missing', async () => {
    const headers = { 'content-type': 'application/json', 'content-digest': createContentDigest(JSON_BODY) };
    const req = handSigned([...REQUIRED, 'content-type', 'content-digest'], fullParams(), { method: 'POST', headers, body: JSON_BODY });
    const { ['content-digest']: _, ...withoutDigest } = req.headers;
    expect(await rejectedReasonOf(verify({ ...req, headers: withoutDigest }))).toBe('digest_missing');
  });
});

describe('RequestVerifier: time window', () => {
  it('created older than maxAge is request_expired; exactly maxAge is accepted', async () => {
    // NOW_MS is 250 ms past NOW_S, so NOW_S - 300 is 300.25 s old: use the verifier clock on a whole second.
    const onTheSecond = makeVerifier({ now: () => NOW_S * 1000 });
    expect(await rejectedReasonOf(verify(signed({}, K1, { created: NOW_S - 301 }), undefined, onTheSecond))).toBe('request_expired');
    await expect(verify(signed({}, K1, { created: NOW_S - 300 }), undefined, onTheSecond)).resolves.toMatchObject({ created: NOW_S - 300 });
  });

  it('created in the future beyond the skew is request_from_future; within it is accepted', async () => {
    expect(await rejectedReasonOf(verify(signed({}, K1, { created: NOW_S + 6 })))).toBe('request_from_future');
    await expect(verify(signed({}, K1, { created: NOW_S + 5 }))).resolves.toMatchObject({ created: NOW_S + 5 });
    await expect(verify(signed({}, K1, { created: NOW_S + 1 }))).resolves.toMatchObject({ created: NOW_S + 1 });
  });

  it('expires in the past is request_expired, even when created is recent', async () => {
    expect(await rejectedReasonOf(verify(signed({}, K1, { created: NOW_S - 10, expiresInSeconds: 5 })))).toBe('request_expired');
    await expect(verify(signed({}, K1, { created: NOW_S - 10, expiresInSeconds: 60 }))).resolves.toMatchObject({ id: 'order-service' });
  });

  it('custom maxAgeSeconds and maxFutureSkewSeconds are honoured', async () => {
    const tight = makeVerifier({ maxAgeSeconds: 30, maxFutureSkewSeconds: 0 });
    expect(await rejectedReasonOf(verify(signed({}, K1, { created: NOW_S - 31 }), undefined, tight))).toBe('request_expired');
    expect(await rejectedReasonOf(verify(signed({}, K1, { created: NOW_S + 1 }), undefined, tight))).toBe('request_from_future');
    await expect(verify(signed({}, K1, { created: NOW_S - 29 }), undefined, tight)).resolves.toMatchObject({ id: 'order-service' });
  });
});

describe('RequestVerifier: replay', () => {
  it('the same request twice is nonce_replayed', async () => {
    const req = signed();
    await expect(verify(req)).resolves.toMatchObject({ id: 'order-service' });
    expect(await rejectedReasonOf(verify(req))).toBe('nonce_replayed');
  });

  it('a replayed POST with its body is nonce_replayed', async () => {
    const req = signed({ method: 'POST', target: '/orders', headers: { 'content-type': 'application/json' }, body: JSON_BODY });
    await verify(req);
    expect(await rejectedReasonOf(verify(req))).toBe('nonce_replayed');
  });

  it('the same nonce under a different key id is a different request', async () => {
    const n = nonce();
    await expect(verify(signed({}, K1, { nonce: n }))).resolves.toMatchObject({ keyId: 'k1', nonce: n });
    await expect(verify(signed({}, K2, { nonce: n }))).resolves.toMatchObject({ keyId: 'k2', nonce: n });
    await expect(verify(signed({}, B1, { nonce: n }))).resolves.toMatchObject({ id: 'billing-service', nonce: n });
    expect(store.claims.map(({ callerId, keyId, nonce }) => ({ callerId, keyId, nonce }))).toEqual([
      { callerId: 'order-service', keyId: 'k1', nonce: n },
      { callerId: 'order-service', keyId: 'k2', nonce: n },
      { callerId: 'billing-service', keyId: 'b1', nonce: n },
    ]);
  });

  it('the nonce is remembered until created + maxAge + 1 s, not arrival + maxAge', async () => {
    const created = NOW_S - 100;
    const n = nonce();
    await verify(signed({}, K1, { created, nonce: n }));
    expect(store.claims).toHaveLength(1);
    expect(store.claims[0]).toMatchObject({ callerId: 'order-service', keyId: 'k1', nonce: n });
    expect(store.claims[0].expiresAtMs).toBe((created + 300 + 1) * 1000);
    expect(store.claims[0].expiresAtMs).not.toBe(NOW_MS + 300_000);

    const custom = makeVerifier({ maxAgeSeconds: 60 });
    await custom.verify(messageOf(signed({}, K1, { created: NOW_S + 3 })), new Uint8Array(0));
    expect(store.claims[1].expiresAtMs).toBe((NOW_S + 3 + 60 + 1) * 1000);
  });

  it('a nonce store that throws is replay_store_unavailable (fail closed)', async () => {
    const failing: NonceStore = {
      claim: async () => {
        throw new ReplayStoreUnavailableError('connection refused');
      },
    };
    expect(await rejectedReasonOf(verify(signed(), undefined, makeVerifier({}, failing)))).toBe('replay_store_unavailable');
    const throwingSync: NonceStore = {
      claim: () => {
        throw new Error('boom');
      },
    };
    expect(await rejectedReasonOf(verify(signed(), undefined, makeVerifier({}, throwingSync)))).toBe('replay_store_unavailable');
  });

  it('a caller at its nonce budget is nonce_budget_exhausted (429) with Retry-After, while another caller is served', async () => {
    const budgeted = makeVerifier({}, new MemoryNonceStore({ maxNoncesPerCaller: 2, now: () => NOW_MS }));
    await verify(signed({}, K1, { created: NOW_S - 10 }), undefined, budgeted);
    await verify(signed({}, K2), undefined, budgeted); // the budget is the caller's, whichever key signs
    let refusal: unknown;
    try {
      await verify(signed({}, K1), undefined, budgeted);
    } catch (err) {
      refusal = err;
    }
    expect(refusal).toBeInstanceOf(ServiceAuthError);
    // Room comes back when the oldest nonce expires: created + 300 + 1 s, i.e. 290.75 s after NOW_MS.
    expect(refusal).toMatchObject({ reason: 'nonce_budget_exhausted', status: 429, retryAfterSeconds: 291 });
    expect((refusal as ServiceAuthError).message).toMatch(/Retry-After/);
    expect((refusal as ServiceAuthError).detail).toContain('order-service');
    await expect(verify(signed({}, B1), undefined, budgeted)).resolves.toMatchObject({ id: 'billing-service' });
  });

  it('Retry-After for an exhausted budget is whole seconds, at least 1', async () => {
    for (const [retryAfterMs, seconds] of [
      [0, 1],
      [1, 1],
      [1000, 1],
      [1001, 2],
    ]) {
      const exhausted: NonceStore = {
        claim: async ({ callerId }) => {
          throw new NonceBudgetExhaustedError(callerId, 5, retryAfterMs);
        },
      };
      await expect(verify(signed(), undefined, makeVerifier({}, exhausted))).rejects.toMatchObject({ retryAfterSeconds: seconds });
    }
  });

  it('refused requests never consume store capacity', async () => {
    const req = signed({ method: 'POST', target: '/orders', headers: { 'content-type': 'application/json' }, body: JSON_BODY });
    await rejectedReasonOf(verify({ ...req, target: '/other' }));
    await rejectedReasonOf(verify({ ...req, body: Buffer.from('x') }));
    await rejectedReasonOf(verify(signed({}, K1, { created: NOW_S - 1000 })));
    expect(store.claims).toHaveLength(0);
  });
});

describe('RequestVerifier: trust policy', () => {
  it('a caller the policy refuses is caller_not_trusted, and the policy is asked with the caller id', async () => {
    const asked: string[] = [];
    const onlyBilling: TrustPolicy = (id) => {
      asked.push(id);
      return id === 'billing-service';
    };
    expect(await rejectedReasonOf(verify(signed(), onlyBilling))).toBe('caller_not_trusted');
    expect(asked).toEqual(['order-service']);
    await expect(verify(signed({}, B1), onlyBilling)).resolves.toMatchObject({ id: 'billing-service' });
  });

  it('an untrusted call does not consume its nonce: the same request then passes a permissive policy', async () => {
    const req = signed();
    expect(await rejectedReasonOf(verify(req, () => false))).toBe('caller_not_trusted');
    expect(store.claims).toHaveLength(0);
    await expect(verify(req, () => true)).resolves.toMatchObject({ id: 'order-service' });
    expect(await rejectedReasonOf(verify(req))).toBe('nonce_replayed');
  });
});

describe('RequestVerifier: key rotation', () => {
  it('reads the key ring on every request', async () => {
    let current = ring;
    const rotating = new RequestVerifier(() => current, store, { audience: AUDIENCE, now: () => NOW_MS });
    const req = signed();
    current = KeyRing.from({ callers: [{ id: 'billing-service', keys: [{ id: 'b1', apiKey: B1.apiKey, secret: secret() }] }] }, AUDIENCE);
    expect(await rejectedReasonOf(rotating.verify(messageOf(req), req.body))).toBe('api_key_invalid');
    current = ring;
    await expect(rotating.verify(messageOf(req), req.body)).resolves.toMatchObject({ caller: { id: 'order-service' } });
  });
});

describe('RequestVerifier: request target (checked first, before any credential)', () => {
  it('a fragment appended to a signed target is request_target_invalid (it would not be signed, yet routers read it)', async () => {
    const req = signed({ target: '/items/1' });
    expect(await rejectedReasonOf(verify({ ...req, target: '/items/1#&role=admin' }))).toBe('request_target_invalid');
    expect(await rejectedReasonOf(verify({ ...signed({ target: '/items?a=1' }), target: '/items?a=1#&role=admin' }))).toBe(
      'request_target_invalid',
    );
  });

  it('absolute-form, whose scheme and authority would not be signed, is request_target_invalid', async () => {
    const req = signed({ target: '/items/1?x=1' });
    expect(await rejectedReasonOf(verify({ ...req, target: 'http://evil.example/items/1?x=1' }))).toBe('request_target_invalid');
  });

  it('dot segments, empty segments and backslashes in the path are request_target_invalid', async () => {
    for (const target of ['/admin/../items/1', '/items/./1', '/items//1', '/items/%2e%2e', '/items\\1']) {
      expect(await rejectedReasonOf(verify({ ...signed(), target }))).toBe('request_target_invalid');
    }
  });

  it('a target is refused before the API key is looked at', async () => {
    expect(await rejectedReasonOf(verify({ method: 'GET', target: '/items#x', headers: {}, body: new Uint8Array(0) }))).toBe(
      'request_target_invalid',
    );
  });

  it('precheck alone refuses such a target, without a key or a body', () => {
    expect(() => verifier.precheck(httpMessage({ method: 'GET', target: '/items#x', headers: {} }))).toThrow(ServiceAuthError);
    expect(() => verifier.precheck(httpMessage({ method: 'GET', target: '/items?x=1', headers: {} }))).not.toThrow();
  });
});

describe('RequestVerifier: content coding (checked first, before any credential)', () => {
  it('a content-encoded body is content_encoding_unsupported, even when the signature covers it, and before the API key', async () => {
    const body = Buffer.from('compressed?');
    const headers = { 'content-type': 'application/json', 'content-encoding': 'gzip' };
    expect(await rejectedReasonOf(verify(signed({ method: 'POST', target: '/orders', headers, body })))).toBe(
      'content_encoding_unsupported',
    );
    expect(await rejectedReasonOf(verify({ method: 'POST', target: '/orders', headers, body }))).toBe('content_encoding_unsupported');
  });

  it('Content-Encoding: identity, covered, is accepted', async () => {
    const req = signed({
      method: 'POST',
      target: '/orders',
      headers: { 'content-type': 'application/json', 'content-encoding': 'identity' },
      body: JSON_BODY,
    });
    await expect(verify(req)).resolves.toMatchObject({ id: 'order-service' });
  });

  it('precheck alone refuses a content coding, without a key or a body', () => {
    expect(() => verifier.precheck(httpMessage({ method: 'GET', target: '/items', headers: { 'content-encoding': 'br' } }))).toThrow(
      ServiceAuthError,
    );
  });
});

describe('RequestVerifier: names of Object.prototype wherever the caller names something', () => {
  const NAMES = [...new Set(Object.getOwnPropertyNames(Object.prototype).flatMap((name) => [name, name.toLowerCase()]))];
  const junk = () => `:${randomBytes(32).toString('base64')}:`;
  const inner = (extra: string, params = '') =>
    `("@method" "@path" "@query" "x-api-key"${extra});created=${NOW_S};nonce="${nonce()}";keyid="k1";alg="hmac-sha256";tag="inventory-service"${params}`;
  const fields = (signatureInput: string, signature: string): Req => ({
    method: 'GET',
    target: '/items',
    headers: { 'x-api-key': K1.apiKey, 'signature-input': signatureInput, signature },
    body: new Uint8Array(0),
  });

  it.each(NAMES)(
    '%s: as a covered component, a component parameter, a signature parameter and a label, every refusal is a ServiceAuthError',
    async (name) => {
      // rejectedReasonOf() rethrows anything that is not a ServiceAuthError (a TypeError would fail the test).
      expect(await rejectedReasonOf(verify(fields(`sig1=${inner(` "${name}"`)}`, `sig1=${junk()}`)))).toMatch(
        /^signature_(invalid|malformed)$/,
      );
      expect(await rejectedReasonOf(verify(fields(`sig1=${inner(` "x-api-key";key="${name}"`)}`, `sig1=${junk()}`)))).toBe(
        'signature_malformed',
      );
      expect(await rejectedReasonOf(verify(fields(`sig1=${inner(` "@query-param";name="${name}"`)}`, `sig1=${junk()}`)))).toBe(
        'signature_malformed',
      );
      expect(await rejectedReasonOf(verify(fields(`sig1=${inner('', `;${name}=1`)}`, `sig1=${junk()}`)))).toBe('signature_malformed');
      expect(await rejectedReasonOf(verify(fields(`${name}=${inner('')}`, `${name}=${junk()}`)))).toMatch(
        /^signature_(invalid|malformed)$/,
      );
    },
  );

  it('the signer covers a header named like an Object.prototype member only when it is sent', async () => {
    const req = signed({}, K1, { components: ['constructor', '__proto__', 'tostring'] });
    expect(req.headers['signature-input']).toMatch(/^sig1=\("@method" "@path" "@query" "x-api-key"\);/);
    await expect(verify(req)).resolves.toMatchObject({ id: 'order-service' });
  });

  it('a covered `constructor` header that is present is its value; a valid signature over it is accepted', async () => {
    await expect(verify(signed({ headers: { constructor: 'x' } }, K1, { components: ['constructor'] }))).resolves.toMatchObject({
      id: 'order-service',
    });
  });
});
