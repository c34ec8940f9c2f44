/**
 * What the signing client covers, seen on the wire and checked by a real callee: every header the call
 * sets (a version header, a media type), `accept` when it asks for a sealed answer, and `@authority`
 * for the upstreams of `coverAuthority`. A recording server stands in for the network: it captures
 * each signed request as sent, which is then delivered to the callee as is (accepted) or changed the
 * way something in between could change it (refused: 401 signature_invalid).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { TestingModule } from '@nestjs/testing';
import { SignedHttpService } from 'nest-service-auth/client';
import { firstValueFrom } from 'rxjs';
import { startCallee, type CalleeApp } from './support/callee-app.js';
import { newCredential } from './support/credentials.js';
import { rawRequest, reasonOf } from './support/raw-http.js';
import { startRecordingServer, type ReceivedRequest, type RecordingServer } from './support/recording-server.js';
import { signingClientModule } from './support/signing-client.js';

/** The components a Signature-Input header lists, in order. */
function coveredBy(signatureInput: unknown): string[] {
  const list = /^sig1=\(([^)]*)\)/.exec(String(signatureInput))?.[1] ?? '';
  return [...list.matchAll(/"([^"]+)"/g)].map((match) => match[1]);
}

/** A captured request's headers as strings, ready to send again. */
function headersOf(request: ReceivedRequest): Record<string, string> {
  return Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, String(value)]));
}

describe.each(['express', 'fastify'] as const)('SignedHttpService covers what the callee may route on (%s)', (adapter) => {
  const credential = newCredential('order-2026-11');
  let callee: CalleeApp;
  let wire: RecordingServer;
  let caller: TestingModule;
  let http: SignedHttpService;

  beforeAll(async () => {
    callee = await startCallee(
      adapter,
      { serviceId: 'inventory-service', keys: { callers: [{ id: 'order-service', keys: [credential] }] } },
      ['order-service'],
    );
    wire = await startRecordingServer();
    caller = await signingClientModule({
      serviceId: 'order-service',
      keys: { upstreams: [{ id: 'inventory-service', url: wire.url, keys: [credential] }] },
      coverAuthority: ['inventory-service'],
      // Calls go to a recording server, which signs no answer: these cases are about what the
      // request signature covers. Signed answers are tested in signed-answers.e2e-spec.ts.
      verifyAnswers: false,
      retry: false,
    });
    http = caller.get(SignedHttpService);
  });

  afterAll(async () => {
    await caller?.close();
    await wire?.close();
    await callee?.close();
  });

  /** One signed GET /whoami with these headers, as it went on the wire. */
  async function captured(headers: Record<string, string>): Promise<Record<string, string>> {
    wire.reset();
    await firstValueFrom(http.get(`${wire.url}/whoami`, { headers }));
    expect(wire.received).toHaveLength(1);
    return headersOf(wire.received[0]);
  }

  const versioned = { 'X-API-Version': '2', Accept: 'application/vnd.shop.v2+json' };
  const deliver = (headers: Record<string, string>) => rawRequest(callee.url, { method: 'GET', path: '/whoami', headers });

  it('covers the version header, accept and @authority, and leaves out connection and host; the callee accepts it as sent', async () => {
    const sent = await captured(versioned);
    expect(coveredBy(sent['signature-input'])).toEqual([
      '@method',
      '@path',
      '@query',
      'x-api-key',
      'x-api-version',
      'accept',
      '@authority',
    ]);
    expect(sent['x-api-version']).toBe('2');
    const res = await deliver(sent);
    expect([res.status, res.json]).toEqual([200, { caller: 'order-service', keyId: credential.id }]);
  });

  it.each([
    ['the version header changed', (h: Record<string, string>) => (h['x-api-version'] = '1')],
    ['the version header stripped', (h: Record<string, string>) => delete h['x-api-version']],
    ['accept changed', (h: Record<string, string>) => (h['accept'] = 'application/vnd.shop.v1+json')],
    ['Host rewritten', (h: Record<string, string>) => (h['host'] = new URL(callee.url).host)],
  ])('%s in transit: 401 signature_invalid', async (_change, change) => {
    const sent = await captured(versioned);
    change(sent);
    const res = await deliver(sent);
    expect([res.status, reasonOf(res)]).toEqual([401, 'signature_invalid']);
  });
});

describe.each(['express', 'fastify'] as const)('an encrypted call covers accept: no downgrade to a plaintext answer (%s)', (adapter) => {
  const credential = newCredential('order-2026-11');
  let callee: CalleeApp;
  let wire: RecordingServer;
  let caller: TestingModule;

  beforeAll(async () => {
    callee = await startCallee(
      adapter,
      { serviceId: 'inventory-service', keys: { callers: [{ id: 'order-service', keys: [credential] }] } },
      ['order-service'],
    );
    wire = await startRecordingServer();
    caller = await signingClientModule({
      serviceId: 'order-service',
      keys: { upstreams: [{ id: 'inventory-service', url: wire.url, keys: [credential] }] },
      encrypt: true,
      // A recording server signs no answer; signed answers are tested in signed-answers.e2e-spec.ts.
      verifyAnswers: false,
      retry: false,
    });
  });

  afterAll(async () => {
    await caller?.close();
    await wire?.close();
    await callee?.close();
  });

  it('a GET asking for a sealed answer covers accept; stripped in transit, the callee refuses it (401 signature_invalid)', async () => {
    // The recording server answers in plaintext, which the client refuses: only the request matters here.
    await expect(firstValueFrom(caller.get(SignedHttpService).get(`${wire.url}/whoami`))).rejects.toMatchObject({
      reason: 'encryption_required',
    });
    const sent = headersOf(wire.received[0]);
    expect(sent['accept']).toBe('application/jose');
    expect(coveredBy(sent['signature-input'])).toContain('accept');
    delete sent['accept'];
    const res = await deliver(sent);
    expect([res.status, reasonOf(res)]).toEqual([401, 'signature_invalid']);

    function deliver(headers: Record<string, string>) {
      return rawRequest(callee.url, { method: 'GET', path: '/whoami', headers });
    }
  });
});
