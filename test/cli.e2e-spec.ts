/**
 * `nest-service-auth keygen` and `rotate` as an operator runs them: a separate process (argv, standard
 * output, standard error, exit status), from the source under test. What they print is handed, as it
 * is, to two real services reading it with EnvKeyProvider: the caller signs with SignedHttpService,
 * the callee verifies, over real HTTP, before, during and after a rotation.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { TestingModule } from '@nestjs/testing';
import { firstValueFrom } from 'rxjs';
import { ServiceAuthKeys } from 'nest-service-auth';
import { SignedHttpService } from 'nest-service-auth/client';
import { EnvKeyProvider } from 'nest-service-auth/core';
import type { KeygenJson, RotationJson } from '../libs/service-auth/src/cli/run-cli.js';
import { startCallee, type CalleeApp } from './support/callee-app.js';
import { compileCli, type CompiledCli } from './support/cli-from-source.js';
import { parseEnvBlocks } from './support/env-lines.js';
import { rawRequest, reasonOf } from './support/raw-http.js';
import { signingClientModule } from './support/signing-client.js';

/** A service's environment, changed in place by the steps, read by EnvKeyProvider on every (re)load. */
type Environment = Record<string, string>;
const provider = (env: Environment) => new EnvKeyProvider({ get: (name) => env[name] });

describe('nest-service-auth (the command, from source)', () => {
  let cli: CompiledCli;
  beforeAll(() => {
    cli = compileCli();
  });
  afterAll(() => cli?.remove());

  it('needs nothing installed: its files import only Node.js built-ins', () => {
    expect(cli.imports.filter((name) => !name.startsWith('node:'))).toEqual([]);
  });

  it('keygen: standard output holds the two blocks, standard error only the placeholder notice, exit status 0', async () => {
    const run = await cli.run(['keygen', 'order-service', 'inventory-service']);
    expect(run.status).toBe(0);
    const [callerEnv, calleeEnv] = parseEnvBlocks(run.stdout);
    expect(callerEnv.SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_URL).toBe('http://inventory-service.invalid');
    expect(calleeEnv.SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS).toBe(callerEnv.SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_KEYS);
    expect(run.stderr).toBe(
      "nest-service-auth: SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_URL is a placeholder (http://inventory-service.invalid): set inventory-service's URL there, or pass --url\n",
    );
  });

  it('exits 2 on a bad command line and 1 on a refused id, with nothing on standard output', async () => {
    const usage = await cli.run(['keygen', 'order-service']);
    expect([usage.status, usage.stdout]).toEqual([2, '']);
    expect(usage.stderr).toMatch(/^nest-service-auth: keygen takes two arguments: <caller-id> <callee-id>\n\nUsage:/);
    const refused = await cli.run(['keygen', 'order service', 'inventory-service']);
    expect([refused.status, refused.stdout]).toEqual([1, '']);
    expect(refused.stderr).toMatch(/^nest-service-auth: <caller-id> must be a service id/);
  });

  describe('its output, given to two running services', () => {
    let callee: CalleeApp;
    let caller: TestingModule;
    const callerEnv: Environment = {};
    const calleeEnv: Environment = {};

    beforeAll(async () => {
      // The callee must be listening before keygen can be told its URL: start it on keys of its own first.
      const first = await cli.run(['keygen', 'order-service', 'inventory-service', '--json']);
      Object.assign(calleeEnv, (JSON.parse(first.stdout) as KeygenJson).calleeEnv);
      callee = await startCallee('express', { serviceId: 'inventory-service', keyProvider: provider(calleeEnv) }, ['order-service']);

      const run = await cli.run(['keygen', 'order-service', 'inventory-service', '--url', callee.url]);
      expect([run.status, run.stderr]).toEqual([0, '']);
      const [callerBlock, calleeBlock] = parseEnvBlocks(run.stdout);
      Object.assign(callerEnv, callerBlock);
      Object.assign(calleeEnv, calleeBlock);
      await callee.app.get(ServiceAuthKeys).reload();
      caller = await signingClientModule({
        serviceId: 'order-service',
        keyProvider: provider(callerEnv),
        retry: false,
      });
    });

    afterAll(async () => {
      await caller?.close();
      await callee?.close();
    });

    const keyIdOf = (list: string) => list.split(':')[0];
    const call = async () => {
      const http = caller.get(SignedHttpService);
      const url = http.urlFor('inventory-service', '/echo');
      return (await firstValueFrom(http.post<unknown>(url, { productId: 'P123', quantity: 2 }))).data;
    };

    it('keygen: the caller signs with what it printed for the caller, the callee verifies with what it printed for the callee', async () => {
      expect(await call()).toEqual({ caller: 'order-service', body: { productId: 'P123', quantity: 2 } });
      const whoami = await firstValueFrom(caller.get(SignedHttpService).get(`${callee.url}/whoami`));
      expect(whoami.data).toEqual({ caller: 'order-service', keyId: keyIdOf(calleeEnv.SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS) });
    });

    it("rotate, reading the current key from the caller's environment: calls succeed after every step, the old key is refused after the last", async () => {
      const oldKeyId = keyIdOf(callerEnv.SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_KEYS);
      const run = await cli.run(['rotate', 'order-service', 'inventory-service', '--from-env', 'caller'], { env: callerEnv });
      expect([run.status, run.stderr]).toEqual([0, '']);
      const [step1, step2, step3] = parseEnvBlocks(run.stdout);
      const newKeyId = keyIdOf(step3.SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS);
      expect(newKeyId).not.toBe(oldKeyId);
      const whoami = async () =>
        (await firstValueFrom(caller.get(SignedHttpService).get<{ keyId: string }>(`${callee.url}/whoami`))).data.keyId;

      // A request signed with the old key now, kept to be sent after the last step.
      const { signRequest, deriveKeys } = await import('nest-service-auth/core');
      const [, apiKey, secret] = callerEnv.SERVICE_AUTH_UPSTREAM_INVENTORY_SERVICE_KEYS.split(':');
      const oldCredential = {
        id: oldKeyId,
        apiKey,
        hmacKey: deriveKeys(Buffer.from(secret, 'base64url')).hmacKey,
        audience: 'inventory-service',
      };

      Object.assign(calleeEnv, step1);
      await callee.app.get(ServiceAuthKeys).reload();
      expect(await whoami()).toBe(oldKeyId);
      Object.assign(callerEnv, step2);
      await caller.get(SignedHttpService).keys.reload();
      expect(await whoami()).toBe(newKeyId);
      Object.assign(calleeEnv, step3);
      await callee.app.get(ServiceAuthKeys).reload();
      expect(await whoami()).toBe(newKeyId);
      expect(await call()).toEqual({ caller: 'order-service', body: { productId: 'P123', quantity: 2 } });

      const headers = signRequest({ method: 'GET', url: `${callee.url}/whoami` }, oldCredential);
      const refused = await rawRequest(callee.url, { method: 'GET', path: '/whoami', headers });
      expect([refused.status, reasonOf(refused)]).toEqual([401, 'api_key_invalid']);
    });

    it('rotate --current - reads the current key from standard input', async () => {
      const current = calleeEnv.SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS;
      const run = await cli.run(['rotate', 'order-service', 'inventory-service', '--current', '-', '--json'], { stdin: current });
      expect([run.status, run.stderr]).toEqual([0, '']);
      const plan = JSON.parse(run.stdout) as RotationJson;
      expect(plan.previousKeyId).toBe(keyIdOf(current));
      expect(plan.steps.map((step) => step.value.split(',').map(keyIdOf))).toEqual([
        [keyIdOf(current), plan.key.id],
        [plan.key.id, keyIdOf(current)],
        [plan.key.id],
      ]);
    });
  });
});
