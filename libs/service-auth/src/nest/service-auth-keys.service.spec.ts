import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { Logger, type LoggerService } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyConfigurationError } from '../errors/key-configuration.error.js';
import { EnvKeyProvider, formatKeyList } from '../keys/env-key-provider.js';
import { FileKeyProvider } from '../keys/file-key-provider.js';
import type { CredentialDefinition } from '../keys/key-material.js';
import { SignedHttpModule } from './client/signed-http.module.js';
import { SignedHttpService } from './client/signed-http.service.js';
import { ServiceAuthKeys } from './service-auth-keys.service.js';
import { ServiceAuthModule } from './service-auth.module.js';

const credential = (id: string): { id: string; apiKey: string; secret: string } => ({
  id,
  apiKey: `sk_${randomBytes(32).toString('base64url')}`,
  secret: randomBytes(32).toString('base64url'),
});

/** Every entry Nest's loggers receive, as JSON loggers and text loggers print them. */
class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  readonly entries: unknown[] = [];
  private keep(message: unknown) {
    this.entries.push(message);
    this.lines.push(String(message), JSON.stringify(message));
  }
  log(message: unknown) {
    this.keep(message);
  }
  warn(message: unknown) {
    this.keep(message);
  }
  error(message: unknown) {
    this.keep(message);
  }
}

let logs: CapturingLogger;
beforeEach(() => {
  logs = new CapturingLogger();
  Logger.overrideLogger(logs);
});
afterAll(() => {
  Logger.overrideLogger(false);
});

const events = (event: string) => logs.entries.filter((entry) => (entry as { event?: unknown })?.event === event);

describe('the key ids loaded, logged once at start-up', () => {
  it('ServiceAuthModule and SignedHttpModule each log their callers and upstreams with key ids, and no secret or API key', async () => {
    const order = [credential('order-2026-11'), credential('order-2026-10')];
    const audit = [credential('audit-1')];
    const payments = [credential('inv-to-pay-1')];
    const moduleRef = await Test.createTestingModule({
      imports: [
        ServiceAuthModule.forRoot({
          serviceId: 'inventory-service',
          keys: {
            callers: [
              { id: 'order-service', keys: order },
              { id: 'audit-service', keys: audit },
            ],
          },
        }),
        SignedHttpModule.register({
          serviceId: 'inventory-service',
          keys: { upstreams: [{ id: 'payments-service', url: 'http://payments:8083/api', keys: payments }] },
        }),
      ],
    })
      .setLogger(logs)
      .compile();
    await moduleRef.close();

    expect(events('service_auth_keys_loaded')).toEqual([
      expect.objectContaining({
        module: 'ServiceAuthModule',
        callers: [
          { id: 'order-service', keys: ['order-2026-11', 'order-2026-10'] },
          { id: 'audit-service', keys: ['audit-1'] },
        ],
        upstreams: [],
      }),
      expect.objectContaining({
        module: 'SignedHttpModule',
        callers: [],
        upstreams: [{ id: 'payments-service', url: 'http://payments:8083/api', keys: ['inv-to-pay-1'] }],
      }),
    ]);
    expect(logs.lines.join('\n')).toContain('service_auth_keys_loaded module=ServiceAuthModule');
    for (const key of [...order, ...audit, ...payments]) {
      for (const line of logs.lines) {
        expect(line).not.toContain(key.apiKey);
        expect(line).not.toContain(key.secret);
      }
    }
  });

  it('a key id with the shape of a secret (a key list in the wrong order) is not printed', async () => {
    const swapped = { ...credential('x'), id: randomBytes(32).toString('base64url') };
    await ServiceAuthKeys.create({ serviceId: 'inventory-service', keys: { callers: [{ id: 'order-service', keys: [swapped] }] } });
    expect(events('service_auth_keys_loaded')).toEqual([
      expect.objectContaining({ callers: [{ id: 'order-service', keys: ['(hidden: looks like a secret)'] }] }),
    ]);
    expect(logs.lines.join('\n')).not.toContain(swapped.id);
  });
});

describe('reload from a FileKeyProvider', () => {
  let dir: string;
  let path: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'service-auth-keys-'));
    path = join(dir, 'keys.env');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** As an operator replaces a key file: written beside it, then renamed over it. */
  async function replaceFile(text: string): Promise<void> {
    await writeFile(`${path}.next`, text);
    await rename(`${path}.next`, path);
  }

  it('NAME=value lines (keygen output, a .env file): a rotation is picked up by reload, a bad file keeps the running keys', async () => {
    const old = credential('order-2026-10');
    const next = credential('order-2026-11');
    await replaceFile(
      `# keys of inventory-service\nSERVICE_AUTH_CALLERS=order-service\nSERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS='${formatKeyList([old])}'\n`,
    );
    const keys = await ServiceAuthKeys.create({ serviceId: 'inventory-service', keyProvider: new FileKeyProvider({ path }) });
    expect(keys.ring.findByApiKey(old.apiKey)?.id).toBe('order-2026-10');

    await replaceFile(
      `export SERVICE_AUTH_CALLERS=order-service\nSERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS="${formatKeyList([next, old])}"\n`,
    );
    await keys.reload();
    expect(keys.ring.callerKeyIds('order-service')).toEqual(['order-2026-11', 'order-2026-10']);
    expect(events('service_auth_keys_reloaded')).toEqual([
      expect.objectContaining({
        module: 'ServiceAuthModule',
        callers: [{ id: 'order-service', keys: ['order-2026-11', 'order-2026-10'] }],
      }),
    ]);

    // A secret of 5 bytes: refused, and the keys of the last good load stay.
    await replaceFile(`SERVICE_AUTH_CALLERS=order-service\nSERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS=${next.id}:${next.apiKey}:c2hvcnQ\n`);
    await expect(keys.reload()).rejects.toThrow(/SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS.*at least 32/);
    expect(keys.ring.callerKeyIds('order-service')).toEqual(['order-2026-11', 'order-2026-10']);
    // A line that is no assignment: named by its number, never quoted.
    await replaceFile(`SERVICE_AUTH_CALLERS=order-service\n${next.secret}\n`);
    const refusal = await keys.reload().then(
      () => undefined,
      (error: unknown) => error as Error,
    );
    expect(refusal).toBeInstanceOf(KeyConfigurationError);
    expect(refusal?.message).toBe(`FileKeyProvider: ${path}, line 2 is not NAME=value`);
    // The file gone: refused too, the running keys kept.
    await rm(path);
    await expect(keys.reload()).rejects.toThrow(`FileKeyProvider: cannot read ${path} (ENOENT)`);
    expect(keys.ring.findByApiKey(next.apiKey)?.id).toBe('order-2026-11');
  });

  it('JSON key material: reloaded the same way; invalid JSON is refused without quoting the file', async () => {
    const old = credential('pay-1');
    const next = credential('pay-2');
    const material = (keys: CredentialDefinition[]) =>
      JSON.stringify({ upstreams: [{ id: 'payments-service', url: 'http://payments:8083', keys }] });
    await replaceFile(material([old]));
    const keys = await ServiceAuthKeys.create(
      { serviceId: 'order-service', keyProvider: new FileKeyProvider({ path }) },
      'SignedHttpModule',
    );
    await replaceFile(material([next, old]));
    await keys.reload();
    expect(keys.ring.upstream('payments-service')?.keys.map((key) => key.id)).toEqual(['pay-2', 'pay-1']);

    await replaceFile(`{"upstreams": [{"id": "payments-service", "keys": [{"secret": "${next.secret}"`);
    const refusal = await keys.reload().then(
      () => undefined,
      (error: unknown) => error as Error,
    );
    expect(refusal?.message).toBe(`FileKeyProvider: ${path} is not valid JSON`);
    // A definition that fails validation names the file and its place in it.
    await replaceFile(JSON.stringify({ upstreams: [{ id: 'payments-service', url: 'http://payments:8083', keys: [] }] }));
    await expect(keys.reload()).rejects.toThrow(`${path}: upstreams[0]`);
    expect(keys.ring.upstream('payments-service')?.keys[0].id).toBe('pay-2');
  });

  it("SignedHttpService.keys.reload() reads the client's file again: the new first key signs", async () => {
    const old = credential('pay-1');
    const next = credential('pay-2');
    const upstreamLines = (list: ReturnType<typeof credential>[]) =>
      `SERVICE_AUTH_UPSTREAMS=payments-service\nSERVICE_AUTH_UPSTREAM_PAYMENTS_SERVICE_URL=http://payments:8083\nSERVICE_AUTH_UPSTREAM_PAYMENTS_SERVICE_KEYS=${formatKeyList(list)}\n`;
    await replaceFile(upstreamLines([old]));
    const moduleRef = await Test.createTestingModule({
      imports: [SignedHttpModule.register({ serviceId: 'order-service', keyProvider: new FileKeyProvider({ path }) })],
    }).compile();
    const http = moduleRef.get(SignedHttpService);
    await replaceFile(upstreamLines([next, old]));
    await http.keys.reload();
    expect(http.keys.ring.upstream('payments-service')?.keys[0].id).toBe('pay-2');
    await moduleRef.close();
  });
});

describe('reload through ConfigService (EnvKeyProvider over config.get)', () => {
  const PREFIX = 'KEYS_RELOAD_SPEC';
  afterAll(() => {
    for (const name of Object.keys(process.env)) if (name.startsWith(PREFIX)) delete process.env[name];
  });

  it('config.set() of the keys variable, then reload(): the new keys are used; a bad value keeps the old ones', async () => {
    const old = credential('order-2026-10');
    const next = credential('order-2026-11');
    const moduleRef = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot({
          ignoreEnvFile: true,
          load: [() => ({ [`${PREFIX}_CALLERS`]: 'order-service', [`${PREFIX}_CALLER_ORDER_SERVICE_KEYS`]: formatKeyList([old]) })],
        }),
        ServiceAuthModule.forRootAsync({
          imports: [ConfigModule],
          inject: [ConfigService],
          useFactory: (config: ConfigService) => ({
            serviceId: 'inventory-service',
            keyProvider: new EnvKeyProvider({ prefix: PREFIX, get: (name) => config.get<string>(name) }),
          }),
        }),
      ],
    }).compile();
    const keys = moduleRef.get(ServiceAuthKeys);
    const config = moduleRef.get(ConfigService);
    expect(keys.ring.callerKeyIds('order-service')).toEqual(['order-2026-10']);

    config.set(`${PREFIX}_CALLER_ORDER_SERVICE_KEYS`, formatKeyList([next]));
    await keys.reload();
    expect(keys.ring.callerKeyIds('order-service')).toEqual(['order-2026-11']);

    config.set(`${PREFIX}_CALLER_ORDER_SERVICE_KEYS`, 'not-a-key-list');
    await expect(keys.reload()).rejects.toThrow(KeyConfigurationError);
    expect(keys.ring.findByApiKey(next.apiKey)?.id).toBe('order-2026-11');
    await moduleRef.close();
  });
});

describe('reload with the process environment (the default key source)', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  });

  it('is refused with a message that says why and what to use instead; the running keys stay', async () => {
    const key = credential('order-2026-10');
    process.env.SERVICE_AUTH_CALLERS = 'order-service';
    process.env.SERVICE_AUTH_CALLER_ORDER_SERVICE_KEYS = formatKeyList([key]);
    const keys = await ServiceAuthKeys.create({ serviceId: 'inventory-service' });
    const running = keys.ring;
    await expect(keys.reload()).rejects.toThrow(
      /ServiceAuthModule reads its keys from the process environment, which nothing outside a running process can change.*FileKeyProvider/,
    );
    expect(keys.ring).toBe(running);
    expect(new EnvKeyProvider().reloadable).toBe(false);
    expect(new EnvKeyProvider({ get: (name) => process.env[name] }).reloadable).toBe(true);
  });
});
