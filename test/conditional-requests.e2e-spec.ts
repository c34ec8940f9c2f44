/**
 * A conditional GET (If-None-Match, If-Modified-Since) can be answered 304 by the callee's framework
 * after the library signed the 200 it was about to send (Express does: `res.send` turns a fresh 200
 * into a 304 without a body). Such an answer carries nothing to verify, so SignedHttpService refuses
 * to send a conditional call whose answer it verifies, before anything goes out; a caller that turns
 * answer verification off for an upstream keeps HTTP caching.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { TestingModule } from '@nestjs/testing';
import { getAdapter, type InternalAxiosRequestConfig } from 'axios';
import { OutgoingRequestRefusedError, SignedHttpService } from 'nest-service-auth/client';
import { firstValueFrom } from 'rxjs';
import { startCallee, type CalleeApp } from './support/callee-app.js';
import { newCredential } from './support/credentials.js';
import { signingClientModule } from './support/signing-client.js';

describe.each(['express', 'fastify'] as const)('conditional requests and signed answers (%s)', (adapter) => {
  const credential = newCredential('order-2026-11');
  let callee: CalleeApp;
  let verifying: TestingModule;
  let notVerifying: TestingModule;
  /** Every call the verifying client put on the wire. */
  const sent: InternalAxiosRequestConfig[] = [];

  beforeAll(async () => {
    callee = await startCallee(
      adapter,
      { serviceId: 'inventory-service', keys: { callers: [{ id: 'order-service', keys: [credential] }] } },
      ['order-service'],
    );
    const upstreams = [{ id: 'inventory-service', url: callee.url, keys: [credential] }];
    verifying = await signingClientModule({ serviceId: 'order-service', keys: { upstreams }, retry: false });
    const http = getAdapter('http');
    verifying.get(SignedHttpService).axiosRef.defaults.adapter = (config) => {
      sent.push(config);
      return http(config);
    };
    notVerifying = await signingClientModule({ serviceId: 'order-service', keys: { upstreams }, retry: false, verifyAnswers: false });
  });

  afterAll(async () => {
    await verifying?.close();
    await notVerifying?.close();
    await callee?.close();
  });

  it.each(['If-None-Match', 'if-modified-since'])(
    'a call with %s whose answer is verified is refused before it is sent',
    async (header) => {
      const client = verifying.get(SignedHttpService);
      const before = sent.length;
      const value = header.toLowerCase() === 'if-none-match' ? 'W/"anything"' : new Date(0).toUTCString();
      const refusal = await firstValueFrom(client.get(`${callee.url}/whoami`, { headers: { [header]: value } })).catch(
        (error: unknown) => error,
      );
      expect(refusal).toBeInstanceOf(OutgoingRequestRefusedError);
      expect(refusal).toMatchObject({ reason: 'request_config_unsafe', option: 'headers' });
      expect(sent.length).toBe(before);
      // The same call without the header is sent, verified and answered.
      const answer = await firstValueFrom(client.get<unknown>(`${callee.url}/whoami`));
      expect(answer.data).toEqual({ caller: 'order-service', keyId: credential.id });
      expect(sent.length).toBe(before + 1);
    },
  );

  it("a conditional header the application put in the client's axios defaults is refused the same way", async () => {
    const client = verifying.get(SignedHttpService);
    const before = sent.length;
    client.axiosRef.defaults.headers.get['If-None-Match'] = 'W/"anything"';
    try {
      const refusal = await firstValueFrom(client.get(`${callee.url}/whoami`)).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(OutgoingRequestRefusedError);
      expect(refusal).toMatchObject({ reason: 'request_config_unsafe', option: 'headers' });
      expect(sent.length).toBe(before);
    } finally {
      delete client.axiosRef.defaults.headers.get['If-None-Match'];
    }
  });

  it('with verifyAnswers off for the upstream, a conditional GET is sent and the framework may answer 304', async () => {
    const client = notVerifying.get(SignedHttpService);
    const first = await firstValueFrom(client.get<unknown>(`${callee.url}/whoami`));
    expect(first.status).toBe(200);
    const etag = first.headers['etag'] as string | undefined;
    const again = await firstValueFrom(
      client.get<unknown>(`${callee.url}/whoami`, { headers: etag ? { 'If-None-Match': etag } : {}, validateStatus: () => true }),
    );
    // Express generates an ETag and answers 304 to a matching If-None-Match; Fastify sends no ETag.
    expect(again.status).toBe(adapter === 'express' ? 304 : 200);
  });
});
