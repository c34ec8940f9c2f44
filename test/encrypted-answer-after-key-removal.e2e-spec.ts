/**
 * Keys reloaded while a handler runs. An encrypted exchange is answered under the key the request was
 * signed with; if a reload (ServiceAuthKeys.reload) removes that key while the handler is changing
 * state, the answer must still be delivered, sealed under the key captured when the request was
 * verified, and not turned into a 500 after the change was made.
 *
 * A guarded Nest app (both adapters) whose handler records the order, then waits on a promise the
 * test releases; meanwhile the test removes the caller's signing key from the KeyProvider and reloads.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Body, Controller, Get, HttpCode, Module, Post, type DynamicModule, type INestApplication } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import { isAxiosError } from 'axios';
import { firstValueFrom, type Observable } from 'rxjs';
import { SignedHttpService, type SignedHttpModuleOptions } from 'nest-service-auth/client';
import {
  ServiceAuthKeys,
  ServiceAuthModule,
  TrustedCaller,
  type KeyMaterial,
  type KeyProvider,
  type ServiceAuthModuleOptions,
} from 'nest-service-auth';
import { newCredential, type TestCredential } from './support/credentials.js';
import { listenUrl, type Adapter } from './support/demo-services.js';
import { signingClientModule } from './support/signing-client.js';
import { createServiceApp } from 'service-app';

/** The callee's module options: one place, so a change in how keys are configured lands here only. */
function calleeModuleOptions(keyProvider: KeyProvider): ServiceAuthModuleOptions {
  return { serviceId: 'ledger-service', keyProvider, encryption: 'required' };
}

/** The caller's module options (encrypts every call), same reason. */
function callerModuleOptions(credential: TestCredential, calleeUrl: string): SignedHttpModuleOptions {
  return {
    serviceId: 'client-service',
    keys: {
      upstreams: [
        { id: 'ledger-service', url: calleeUrl, keys: [{ id: credential.id, apiKey: credential.apiKey, secret: credential.secret }] },
      ],
    },
    encrypt: true,
    retry: false,
    circuitBreaker: false,
  };
}

const callerKeys = (...keys: TestCredential[]): KeyMaterial => ({
  callers: [{ id: 'client-service', keys: keys.map(({ id, apiKey, secret }) => ({ id, apiKey, secret })) }],
});

/** A door the handler waits at: the test learns when it is reached, and opens it. */
class Gate {
  private reached!: () => void;
  private open!: () => void;
  arrived!: Promise<void>;
  private opened!: Promise<void>;
  constructor() {
    this.reset();
  }
  reset(): void {
    this.arrived = new Promise((resolve) => (this.reached = resolve));
    this.opened = new Promise((resolve) => (this.open = resolve));
  }
  async pass(): Promise<void> {
    this.reached();
    await this.opened;
  }
  release(): void {
    this.open();
  }
}

const gate = new Gate();
const ledger: unknown[] = [];

@Controller('ledger')
@TrustedCaller('client-service')
class LedgerController {
  @Post()
  @HttpCode(200)
  async record(@Body() entry: { amount: number }) {
    // State changes first, then the handler is held while the keys change under it.
    ledger.push(entry);
    await gate.pass();
    return { recorded: entry.amount, entries: ledger.length };
  }

  @Get()
  async read() {
    await gate.pass();
    return { entries: ledger.length };
  }
}

@Module({})
class LedgerModule {
  static forRoot(keyProvider: KeyProvider): DynamicModule {
    return {
      module: LedgerModule,
      imports: [ServiceAuthModule.forRoot(calleeModuleOptions(keyProvider))],
      controllers: [LedgerController],
    };
  }
}

describe.each(['express', 'fastify'] as Adapter[])('an encrypted answer after its key was removed mid-handler (%s)', (adapter) => {
  const signing = newCredential('client-2026-10');
  const next = newCredential('client-2026-11');
  /** What the callee's KeyProvider returns on the next load. */
  let material: KeyMaterial;
  let server: INestApplication;
  let url: string;
  let clientModule: TestingModule;
  let http: SignedHttpService;

  beforeAll(async () => {
    material = callerKeys(signing, next);
    server = await createServiceApp(LedgerModule.forRoot({ load: () => material }), { adapter, logger: false });
    url = await listenUrl(server);
    clientModule = await signingClientModule(callerModuleOptions(signing, url));
    http = clientModule.get(SignedHttpService);
  });

  afterAll(async () => {
    gate.release();
    await clientModule?.close();
    await server?.close();
  });

  beforeEach(async () => {
    ledger.length = 0;
    gate.reset();
    material = callerKeys(signing, next);
    await server.get(ServiceAuthKeys).reload();
  });

  /** Starts the call, waits until the handler holds, removes the signing key and reloads, then lets the handler finish. */
  async function answerAfterKeyRemoval<T>(call: Observable<{ status: number; data: T }>) {
    const answer = firstValueFrom(call).then(
      (res) => ({ status: res.status, data: res.data }),
      (err: unknown) => {
        const response = isAxiosError<unknown>(err) ? err.response : undefined;
        return { status: response?.status ?? 0, data: response?.data ?? String(err) };
      },
    );
    await gate.arrived;
    material = callerKeys(next);
    await server.get(ServiceAuthKeys).reload();
    expect(server.get(ServiceAuthKeys).ring.findCallerKey('client-service', signing.id)).toBeUndefined();
    gate.release();
    return answer;
  }

  it('an encrypted POST whose handler changed state gets its answer, sealed under the key it was signed with', async () => {
    const res = await answerAfterKeyRemoval(http.post(`${url}/ledger`, { amount: 42 }));
    expect(res).toEqual({ status: 200, data: { recorded: 42, entries: 1 } });
    expect(ledger).toEqual([{ amount: 42 }]);
  });

  it('a GET that asked for an encrypted answer (Accept: application/jose) gets it too', async () => {
    const res = await answerAfterKeyRemoval(http.get(`${url}/ledger`));
    expect(res).toEqual({ status: 200, data: { entries: 0 } });
  });

  it('the removed key is refused on the next request: only the answer in flight is sealed with it', async () => {
    await answerAfterKeyRemoval(http.get(`${url}/ledger`));
    await expect(firstValueFrom(http.get(`${url}/ledger`))).rejects.toMatchObject({
      response: { status: 401, data: { reason: 'api_key_invalid' } },
    });
  });
});
