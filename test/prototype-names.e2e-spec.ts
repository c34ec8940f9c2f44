/**
 * Names that exist on every plain object (`constructor`, `__proto__`, `toString`, …) in every place
 * of the signature fields where a caller chooses a name: covered components (with the header
 * absent and present), component parameters (`;key=`, `;name=`), signature parameters, labels and
 * Content-Digest members. On both adapters, each gets a refusal with its reason (or is served, when
 * the request is valid); never a 500, never a leak.
 *
 * The API key, key id and `created` are valid, so that every request gets as far as the signature
 * base, where header values are looked up by component name.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { createContentDigest, deriveKeys, encryptCompact } from 'nest-service-auth/core';
import type { Adapter } from './support/demo-services.js';
import { startEchoService, type EchoService } from './support/echo-service.js';
import { jsonField, rawRequest, reasonOf, signatureValue, signedHeadersForTarget, type RawResponse } from './support/raw-http.js';
import { expectNoLeak } from './support/refusals.js';

const ADAPTERS: Adapter[] = ['express', 'fastify'];

/** Every own property name of Object.prototype, as written and lowercased (header names are lowercase). */
const PROTOTYPE_NAMES = [...new Set(Object.getOwnPropertyNames(Object.prototype).flatMap((name) => [name, name.toLowerCase()]))];

/** How the verifier reads a covered component name: a lowercase field name (RFC 9110 token). */
const isFieldName = (name: string) => /^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name);
/** An RFC 8941 key, as dictionary member names and parameter names must be. */
const isStructuredKey = (name: string) => /^[a-z*][a-z0-9_\-.*]*$/.test(name);

interface Outcome {
  status: number;
  reason?: string;
}

describe.each(ADAPTERS)('Object.prototype names in signature fields (%s)', (adapter) => {
  let svc: EchoService;
  beforeAll(async () => {
    svc = await startEchoService(adapter);
  });
  afterAll(async () => {
    await svc?.close();
  });

  const junkSignature = () => `:${randomBytes(32).toString('base64')}:`;

  /** An inner list with valid parameters over the required components plus `extra`. */
  function innerList(extra: string, params = ''): string {
    const created = Math.floor(Date.now() / 1000);
    const nonce = randomBytes(16).toString('base64url');
    return `("@method" "@path" "@query" "x-api-key"${extra});created=${created};nonce="${nonce}";keyid="${svc.caller.id}";alg="hmac-sha256";tag="${svc.caller.audience}"${params}`;
  }

  /** Sends GET /echo/1 with the given signature fields; checks it is no 500 and leaks nothing. */
  async function sendFields(signatureInput: string, signature: string): Promise<Outcome> {
    const res = await rawRequest(svc.url, {
      method: 'GET',
      path: '/echo/1',
      headers: { 'x-api-key': svc.caller.apiKey, 'signature-input': signatureInput, signature },
    });
    return outcome(res);
  }

  function outcome(res: RawResponse): Outcome {
    expect(res.status).toBeLessThan(500);
    expectNoLeak(res, svc.secrets);
    return res.status < 400 ? { status: res.status } : { status: res.status, reason: reasonOf(res) };
  }

  /** Runs `send` for every name and compares all outcomes at once, so a failure lists every name. */
  async function expectForEveryName(send: (name: string) => Promise<Outcome>, expected: (name: string) => Outcome): Promise<void> {
    const actual: Record<string, Outcome> = {};
    const wanted: Record<string, Outcome> = {};
    for (const name of PROTOTYPE_NAMES) {
      actual[name] = await send(name);
      wanted[name] = expected(name);
    }
    expect(actual).toEqual(wanted);
  }

  it('as a covered component whose header is absent, with a junk signature → 401 signature_invalid, or 400 signature_malformed if not a field name', async () => {
    await expectForEveryName(
      (name) => sendFields(`sig1=${innerList(` "${name}"`)}`, `sig1=${junkSignature()}`),
      (name) => (isFieldName(name) ? { status: 401, reason: 'signature_invalid' } : { status: 400, reason: 'signature_malformed' }),
    );
  });

  it('as a ;key= or ;name= component parameter → 400 signature_malformed', async () => {
    await expectForEveryName(
      (name) => sendFields(`sig1=${innerList(` "x-api-key";key="${name}"`)}`, `sig1=${junkSignature()}`),
      () => ({ status: 400, reason: 'signature_malformed' }),
    );
    await expectForEveryName(
      (name) => sendFields(`sig1=${innerList(` "@query-param";name="${name}"`)}`, `sig1=${junkSignature()}`),
      () => ({ status: 400, reason: 'signature_malformed' }),
    );
  });

  it('as a signature parameter name → 400 signature_malformed', async () => {
    await expectForEveryName(
      (name) => sendFields(`sig1=${innerList('', `;${name}=1`)}`, `sig1=${junkSignature()}`),
      () => ({ status: 400, reason: 'signature_malformed' }),
    );
  });

  it('as a signature label → 401 signature_invalid (junk signature), or 400 signature_malformed if not a structured-field key', async () => {
    await expectForEveryName(
      (name) => sendFields(`${name}=${innerList('')}`, `${name}=${junkSignature()}`),
      (name) => (isStructuredKey(name) ? { status: 401, reason: 'signature_invalid' } : { status: 400, reason: 'signature_malformed' }),
    );
  });

  it('as a Content-Digest member next to a valid sha-256, correctly signed → served (unknown algorithm ignored), or 400 digest_malformed', async () => {
    const body = '{"productId":"P123","quantity":2}';
    const sha256 = createContentDigest(Buffer.from(body));
    await expectForEveryName(
      async (name) => {
        const headers = signedHeadersForTarget(svc.caller, {
          method: 'POST',
          target: '/echo',
          body,
          headers: { 'content-digest': `${name}=:${Buffer.alloc(32).toString('base64')}:, ${sha256}` },
        });
        svc.secrets.push(signatureValue(headers));
        return outcome(await rawRequest(svc.url, { method: 'POST', path: '/echo', headers, body }));
      },
      (name) => (isStructuredKey(name) ? { status: 201 } : { status: 400, reason: 'digest_malformed' }),
    );
  });

  it('a sent `constructor` header covered by a valid signature is read as that header → served', async () => {
    const headers = signedHeadersForTarget(svc.caller, {
      method: 'GET',
      target: '/echo/1',
      headers: { constructor: 'x' },
      components: ['constructor'],
    });
    svc.secrets.push(signatureValue(headers));
    const res = await rawRequest(svc.url, { method: 'GET', path: '/echo/1', headers });
    expect({ status: res.status, handler: jsonField(res, 'handler') }).toEqual({ status: 200, handler: 'echo' });
  });

  describe('as a key of a JSON body, plaintext or encrypted → 400 body_malformed, never the handler', () => {
    const BODIES: Array<[string, string]> = [
      ['__proto__', '{"productId":"P1","__proto__":{"polluted":1}}'],
      ['constructor.prototype', '{"productId":"P1","constructor":{"prototype":{"polluted":1}}}'],
    ];

    /** POST /echo, signed; `encrypted` sends the same JSON as a JWE under the caller's key. */
    async function post(json: string, encrypted: boolean): Promise<Outcome> {
      const body = encrypted
        ? Buffer.from(
            encryptCompact(Buffer.from(json), deriveKeys(Buffer.from(svc.credential.secret, 'base64url')).encryptionKey, {
              kid: svc.credential.id,
            }),
            'latin1',
          )
        : Buffer.from(json);
      const headers = signedHeadersForTarget(svc.caller, {
        method: 'POST',
        target: '/echo',
        body,
        contentType: encrypted ? 'application/jose' : 'application/json',
      });
      svc.secrets.push(signatureValue(headers));
      return outcome(await rawRequest(svc.url, { method: 'POST', path: '/echo', headers, body }));
    }

    it.each(BODIES)('%s', async (_name, json) => {
      const handled = svc.calls.count;
      expect({ encrypted: await post(json, true) }).toEqual({ encrypted: { status: 400, reason: 'body_malformed' } });
      // The parsers ServiceAuthModule.setup installs refuse the plaintext body the same way, on both adapters.
      expect({ plaintext: await post(json, false) }).toEqual({ plaintext: { status: 400, reason: 'body_malformed' } });
      expect(svc.calls.count).toBe(handled);
    });
  });

  it('a sent `__proto__` header (Node drops it), covered by a valid signature → 401 signature_invalid', async () => {
    // Object.fromEntries makes `__proto__` an own property, so the header is really sent.
    const headers = signedHeadersForTarget(svc.caller, {
      method: 'GET',
      target: '/echo/1',
      headers: Object.fromEntries([['__proto__', 'x']]),
      components: ['__proto__'],
    });
    svc.secrets.push(signatureValue(headers));
    expect(outcome(await rawRequest(svc.url, { method: 'GET', path: '/echo/1', headers }))).toEqual({
      status: 401,
      reason: 'signature_invalid',
    });
  });
});
