/**
 * An answer sealed to an ed25519 caller (ECDH-ES to the request's ephemeral key, PROTOCOL.md §10) is
 * confidential, but its sealing does not say who sealed it: the key it is sealed to and the nonce it
 * must echo both travel in the request. A proxy on the way seals an answer of its own with the right
 * nonce and status. SignedHttpService therefore checks the response signature (§9) of every such
 * answer whatever `verifyAnswers` says, and refuses the forgery (UpstreamAnswerRefusedError) before
 * anything of it reaches the application; a genuine answer still goes through. Both adapters.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import { firstValueFrom } from 'rxjs';
import { SignedHttpService, UpstreamAnswerRefusedError, type SignedHttpModuleOptions } from 'nest-service-auth/client';
import { EnvKeyProvider } from 'nest-service-auth/core';
import { createInventoryApp } from '../apps/inventory-service/src/inventory-app.js';
import { startAnswerRewritingProxy, type AnswerRewritingProxy } from './support/answer-rewriting-proxy.js';
import { keyList, newCredential, pairKeys, type PairKeys } from './support/credentials.js';
import { listenUrl, portOf, type Adapter } from './support/demo-services.js';
import { forgeSealedAnswer } from './support/forged-sealed-answer.js';
import { signingClientModule } from './support/signing-client.js';

const FORGED = { productId: 'P123', newStock: 999999 };

/** Settings under which answers would otherwise go unverified: none, or only another upstream's. */
const UNVERIFIED: [string, SignedHttpModuleOptions['verifyAnswers']][] = [
  ['verifyAnswers: false', false],
  ["verifyAnswers: ['ledger-service']", ['ledger-service']],
];

describe.each(['express', 'fastify'] as Adapter[])(
  'answers sealed to an ed25519 caller prove their sender by signature (%s)',
  (adapter) => {
    let inventory: INestApplication;
    let proxy: AnswerRewritingProxy;
    let pair: PairKeys;

    beforeAll(async () => {
      pair = pairKeys('ed25519', 'http://127.0.0.1:1');
      // inventory's default policy ('required'): every order and every answer to it is sealed.
      inventory = await createInventoryApp({ adapter, logger: false, env: { ...pair.inventory, INVENTORY_STOCK_STORE: 'memory' } });
      await listenUrl(inventory);
      proxy = await startAnswerRewritingProxy(portOf(inventory));
    });

    afterAll(async () => {
      await proxy?.close();
      await inventory?.close();
    });

    beforeEach(() => {
      proxy.fault = 'pass';
    });

    describe.each(UNVERIFIED)('%s', (_label, verifyAnswers) => {
      let client: TestingModule;
      let http: SignedHttpService;

      beforeAll(async () => {
        // A second upstream (hmac-sha256), so that verifyAnswers can list one that is not inventory-service.
        const ledger = newCredential('ledger-2026-12');
        const env: Record<string, string> = {
          ...pair.order,
          SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_URL: proxy.url,
          SERVICE_AUTH_UPSTREAMS: 'inventory-service,ledger-service',
          SERVICE_AUTH_UPSTREAM_LEDGER_SERVICE_URL: 'http://127.0.0.1:1',
          SERVICE_AUTH_UPSTREAM_LEDGER_SERVICE_KEYS: keyList(ledger),
        };
        client = await signingClientModule({
          serviceId: 'order-service',
          keyProvider: new EnvKeyProvider({ get: (name) => env[name] }),
          encrypt: ['inventory-service'],
          verifyAnswers,
          retry: false,
          circuitBreaker: false,
        });
        http = client.get(SignedHttpService);
      });

      afterAll(async () => {
        await client?.close();
      });

      const order = () => firstValueFrom(http.post(`${proxy.url}/api/inventory`, { productId: 'P123', quantity: 1 }));

      it('a genuine sealed answer is opened and returned', async () => {
        const res = await order();
        expect(res.status).toBe(200);
        expect(res.data).toMatchObject({ productId: 'P123', newStock: expect.any(Number) });
        expect(res.data).not.toMatchObject({ newStock: FORGED.newStock });
      });

      it('a sealed answer forged on the way, under the genuine signature, is refused: answer_signature_invalid', async () => {
        proxy.fault = 'forge';
        proxy.forge = (request, answer) => forgeSealedAnswer(request, answer, { plaintext: FORGED, keepSignature: true });
        const refusal = await order().catch((err: unknown) => err);
        expect(refusal).toBeInstanceOf(UpstreamAnswerRefusedError);
        expect(refusal).toMatchObject({ reason: 'answer_signature_invalid', status: 200, upstreamId: 'inventory-service' });
        expect(String((refusal as Error).message)).toMatch(/signature is refused/);
      });

      it('a sealed answer forged on the way, with no signature, is refused: answer_unsigned', async () => {
        proxy.fault = 'forge';
        proxy.forge = (request, answer) => forgeSealedAnswer(request, answer, { plaintext: FORGED, keepSignature: false });
        const refusal = await order().catch((err: unknown) => err);
        expect(refusal).toBeInstanceOf(UpstreamAnswerRefusedError);
        expect(refusal).toMatchObject({ reason: 'answer_unsigned', status: 200, upstreamId: 'inventory-service' });
      });

      it('a sealed answer cannot be streamed: refused before anything is sent, since it must be verified', async () => {
        const before = proxy.requests;
        const call = firstValueFrom(
          http.post(`${proxy.url}/api/inventory`, { productId: 'P123', quantity: 1 }, { responseType: 'stream' }),
        );
        await expect(call).rejects.toMatchObject({
          name: 'OutgoingRequestRefusedError',
          reason: 'request_config_unsafe',
          option: 'responseType',
        });
        await expect(call).rejects.toThrow(
          /an answer sealed to ed25519 upstream "inventory-service" is always verified\); nothing was sent/,
        );
        expect(proxy.requests).toBe(before);
      });
    });
  },
);
