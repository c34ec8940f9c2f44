/**
 * The library as a user gets it: `npm pack` of libs/service-auth, installed from the registry's Nest
 * into throwaway apps in a temporary directory, compiled with the Nest starter's tsconfig, and run.
 *
 * - Nest 11 and Nest 12, each app compiled twice: as CommonJS (`require()`, the `require` condition
 *   of the exports map: most Nest 11 apps) and as an ES module (`import`). Each run starts a callee
 *   with a @TrustedCaller route on Express and on Fastify, and calls it signed (SignedHttpService:
 *   201) and unsigned (401 api_key_missing).
 * - `nest-service-auth/core` in a plain Node program where nothing but the library is installed.
 * - The `nest-service-auth` command (`npx nest-service-auth keygen …`) and `nest-service-auth/testing`
 *   there too: what keygen prints is accepted at both ends, and a test caller's request verifies.
 * - The root entry loads no optional peer; each entry's declarations import only that entry's peers.
 * - Installing the library prints no engine warning for it or its own dependencies.
 *
 * Fast when the npm cache is warm: one pack, one install per app (in parallel, `--prefer-offline`),
 * one tsc run per app, one process per module format running both adapters.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { EnvKeyProvider, KeyRing } from 'nest-service-auth/core';
import { newCredential } from '../support/credentials.js';
import { parseEnvBlocks } from '../support/env-lines.js';

const exec = promisify(execFile);

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LIBRARY = join(ROOT, 'libs/service-auth');
const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

/** The registry versions each throwaway app depends on, beside the packed library. */
const COMMON_DEPENDENCIES = { axios: '^1.6.0', 'reflect-metadata': '^0.2.0', rxjs: '^7.8.0' };
const NEST_DEPENDENCIES = {
  11: {
    '@nestjs/common': '^11.0.0',
    '@nestjs/core': '^11.0.0',
    '@nestjs/platform-express': '^11.0.0',
    '@nestjs/platform-fastify': '^11.0.0',
  },
  12: {
    '@nestjs/common': '^12.0.0',
    '@nestjs/core': '^12.0.0',
    '@nestjs/platform-express': '^12.0.0',
    '@nestjs/platform-fastify': '^12.0.0',
  },
} as const;
type NestMajor = keyof typeof NEST_DEPENDENCIES;

/** What each entry may need installed: the table in the library's README, checked against its declarations. */
const ENTRY_PEERS: Record<string, string[]> = {
  '.': ['@nestjs/common', '@nestjs/core'],
  './core': [],
  './client': ['@nestjs/common', '@nestjs/core', 'axios', 'rxjs'],
  './redis': ['ioredis'],
  './throttler': ['@nestjs/common', '@nestjs/core', '@nestjs/throttler', 'ioredis'],
  './testing': [],
  './swagger': ['@nestjs/common', '@nestjs/core'],
  './microservices': ['@nestjs/common', '@nestjs/core', '@nestjs/microservices', 'rxjs'],
};
const OPTIONAL_PEERS = ['axios', 'ioredis', '@nestjs/throttler', '@nestjs/microservices', '@nestjs/swagger'];

/** The Nest 11 starter's compiler options (module nodenext: CommonJS unless a package.json says "module"). */
const STARTER_COMPILER_OPTIONS = {
  module: 'nodenext',
  moduleResolution: 'nodenext',
  resolvePackageJsonExports: true,
  esModuleInterop: true,
  isolatedModules: true,
  removeComments: true,
  emitDecoratorMetadata: true,
  experimentalDecorators: true,
  allowSyntheticDefaultImports: true,
  target: 'ES2023',
  skipLibCheck: true,
  strictNullChecks: true,
  forceConsistentCasingInFileNames: true,
  noImplicitAny: false,
  // Only @types/node is borrowed from this repository; everything else comes from the app's install.
  types: ['node'],
  typeRoots: [join(ROOT, 'node_modules/@types')],
};

/** A child's environment without this test run's npm and Node settings (npm_config_*, NODE_OPTIONS). */
function userEnvironment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('npm_') && name !== 'NODE_OPTIONS'));
  return { ...env, ...extra };
}

async function npm(args: string[], cwd: string): Promise<string> {
  const { stdout, stderr } = await exec('npm', args, { cwd, env: userEnvironment(), maxBuffer: 16 * 1024 * 1024 });
  return `${stdout}\n${stderr}`;
}

/** Waits for every task (nothing left running in the directory about to be removed), then fails with the first failure. */
async function settleAll(tasks: Promise<unknown>[]): Promise<void> {
  const failed = (await Promise.allSettled(tasks)).find((outcome) => outcome.status === 'rejected');
  if (failed) throw failed.reason;
}

async function npmInstall(cwd: string): Promise<string> {
  return npm(['install', '--prefer-offline', '--no-audit', '--no-fund'], cwd);
}

function writeJson(file: string, value: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** The package names among the files a process loaded (`…/node_modules/@scope/name/…` → `@scope/name`). */
function packagesOf(files: string[]): Set<string> {
  const names = new Set<string>();
  for (const file of files) {
    const match = /.*node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/.exec(file);
    if (match) names.add(match[1].replace('\\', '/'));
  }
  return names;
}

/** The packages a declaration file and the declarations it imports (relative imports followed) import. */
function declarationImports(entryFile: string): string[] {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const code = readFileSync(file, 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/^\s*\/\/.*$/gm, '');
    for (const [, specifier] of code.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g)) {
      if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier.replace(/\.js$/, '.d.ts').replace(/\.cjs$/, '.d.cts')));
      // Node's own modules are typed by @types/node, which every Node.js TypeScript project (Nest's starter included) has.
      else if (specifier.startsWith('node:')) continue;
      else packages.add(specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]);
    }
  };
  visit(entryFile);
  return [...packages].sort();
}

interface ConsumerRun {
  adapter: 'express' | 'fastify';
  build?: 'cjs' | 'esm';
  signed: { status: number; body: unknown };
  unsigned: { status: number; body: { reason?: string } };
}

describe('nest-service-auth as packed and installed', () => {
  const credential = newCredential('order-2026-11');
  let work: string;
  const installLogs: Record<string, string> = {};
  const compileErrors: Partial<Record<NestMajor, string>> = {};
  const appDir = (nest: NestMajor) => join(work, `nest${nest}`);

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'nest-service-auth-pack-'));
    // prepack builds the library (both formats) first.
    await npm(['pack', '--pack-destination', work], LIBRARY);
    const tarball = readdirSync(work).find((name) => name.endsWith('.tgz'));
    if (!tarball) throw new Error(`npm pack left no tarball in ${work}`);
    const library = `file:../${tarball}`;

    for (const nest of [11, 12] as const) {
      const dir = appDir(nest);
      writeJson(join(dir, 'package.json'), {
        name: `consumer-nest${nest}`,
        private: true,
        dependencies: { ...NEST_DEPENDENCIES[nest], ...COMMON_DEPENDENCIES, 'nest-service-auth': library },
      });
      // One source, two module formats: tsc (nodenext) follows the nearest package.json's "type".
      for (const format of ['cjs', 'esm'] as const) {
        writeJson(join(dir, format, 'package.json'), { type: format === 'cjs' ? 'commonjs' : 'module' });
        copyFileSync(join(FIXTURES, 'consumer-app.ts'), join(dir, format, 'app.ts'));
      }
      writeJson(join(dir, 'tsconfig.json'), { compilerOptions: STARTER_COMPILER_OPTIONS, files: ['cjs/app.ts', 'esm/app.ts'] });
    }
    const plain = join(work, 'plain-node');
    writeJson(join(plain, 'package.json'), {
      name: 'consumer-plain-node',
      private: true,
      type: 'module',
      dependencies: { 'nest-service-auth': library },
    });
    copyFileSync(join(FIXTURES, 'core-without-nest.mjs'), join(plain, 'main.mjs'));

    const dirs = { nest11: appDir(11), nest12: appDir(12), 'plain-node': plain };
    await settleAll(
      Object.entries(dirs).map(async ([name, dir]) => {
        installLogs[name] = await npmInstall(dir);
      }),
    );
    // tsc emits even when it reports errors: the tests run the app anyway, then check the report.
    await settleAll(
      ([11, 12] as const).map(async (nest) => {
        compileErrors[nest] = await exec(process.execPath, [TSC, '-p', join(appDir(nest), 'tsconfig.json')], {
          env: userEnvironment(),
        }).then(
          () => '',
          (err: { stdout?: string; message: string }) => err.stdout || err.message,
        );
      }),
    );
  }, 600_000);

  afterAll(() => {
    if (work && !process.env.KEEP_PACK_TEST_DIR) rmSync(work, { recursive: true, force: true });
  });

  describe.each([
    [11, 'cjs'],
    [11, 'esm'],
    [12, 'esm'],
    [12, 'cjs'],
  ] as const)('Nest %s app compiled as %s', (nest, format) => {
    it('authenticates a signed call and refuses an unsigned one, on Express and on Fastify', async () => {
      const { stdout } = await exec(process.execPath, [join(format, 'app.js')], {
        cwd: appDir(nest),
        env: userEnvironment({ CONSUMER_CREDENTIAL: JSON.stringify(credential) }),
        timeout: 60_000,
      });
      const runs = stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as ConsumerRun);
      expect(runs.map((run) => run.adapter)).toEqual(['express', 'fastify']);
      for (const run of runs) {
        expect(run.build).toBe(format === 'cjs' ? 'cjs' : undefined);
        expect(run.signed).toEqual({ status: 201, body: { reserved: 'P-1', by: 'order-service' } });
        expect(run.unsigned.status).toBe(401);
        expect(run.unsigned.body.reason).toBe('api_key_missing');
      }
      // Both formats compile in one tsc run: leave the other format's errors to its own test.
      const other = format === 'cjs' ? 'esm' : 'cjs';
      expect((compileErrors[nest] ?? '').split('\n').filter((line) => line.trim() && !line.includes(`${other}/app.ts`))).toEqual([]);
    });
  });

  it('core works in a plain Node program with nothing but the library installed', async () => {
    const { stdout } = await exec(process.execPath, ['main.mjs'], {
      cwd: join(work, 'plain-node'),
      env: userEnvironment(),
      timeout: 30_000,
    });
    const result = JSON.parse(stdout) as Record<string, unknown>;
    expect(result.absent).toEqual(['@nestjs/common', '@nestjs/core', '@nestjs/axios', 'axios', 'ioredis', 'rxjs', 'reflect-metadata']);
    const exercised = { caller: 'order-service', replay: 'nonce_replayed', decrypted: '{"sku":"P-1"}' };
    expect(result.import).toEqual(exercised);
    expect(result.require).toEqual(exercised);
  });

  it('npx nest-service-auth keygen prints both ends of a pair, which the key ring accepts, with nothing but the library installed', async () => {
    const { stdout, stderr } = await exec('npx', ['--no', 'nest-service-auth', 'keygen', 'a', 'b', '--url', 'http://b:8080'], {
      cwd: join(work, 'plain-node'),
      env: userEnvironment(),
      timeout: 60_000,
    });
    expect(stderr).toBe('');
    const [callerEnv, calleeEnv] = parseEnvBlocks(stdout);
    expect(Object.keys(callerEnv)).toEqual(['SERVICE_AUTH_UPSTREAMS', 'SERVICE_AUTH_UPSTREAM_B_URL', 'SERVICE_AUTH_UPSTREAM_B_KEYS']);
    expect(Object.keys(calleeEnv)).toEqual(['SERVICE_AUTH_CALLERS', 'SERVICE_AUTH_CALLER_A_KEYS']);
    const load = (env: Record<string, string>, serviceId: string) =>
      KeyRing.from(new EnvKeyProvider({ get: (name) => env[name] }).load(), serviceId);
    const signing = load(callerEnv, 'a').upstream('b')!.keys[0];
    expect(load(calleeEnv, 'b').findByApiKey(signing.apiKey)).toMatchObject({ callerId: 'a', id: signing.id, algorithm: 'hmac-sha256' });
  });

  it('nest-service-auth/testing loads both ways with nothing but the library installed, and its requests verify', async () => {
    const program = `
      const exercise = async (testing, core) => {
        const caller = testing.testCaller('order-service', { audience: 'inventory-service' });
        const ring = core.KeyRing.from({ callers: [caller.asCaller()] }, 'inventory-service');
        const verifier = new core.RequestVerifier(() => ring, new core.MemoryNonceStore(), { audience: 'inventory-service' });
        const headers = caller.sign('POST', '/api/inventory', { productId: 'P1' });
        return (await verifier.verify(core.httpMessage({ method: 'POST', target: '/api/inventory', headers }), Buffer.from('{"productId":"P1"}'))).caller.id;
      };
      const { createRequire } = await import('node:module');
      const require = createRequire(process.cwd() + '/');
      console.log(JSON.stringify([
        await exercise(await import('nest-service-auth/testing'), await import('nest-service-auth/core')),
        await exercise(require('nest-service-auth/testing'), require('nest-service-auth/core')),
      ]));`;
    const { stdout } = await exec(process.execPath, ['--input-type=module', '-e', program], {
      cwd: join(work, 'plain-node'),
      env: userEnvironment(),
      timeout: 30_000,
    });
    expect(JSON.parse(stdout)).toEqual(['order-service', 'order-service']);
  });

  it('the root entry loads none of the optional peers (CommonJS, Nest 11)', async () => {
    const { stdout } = await exec(
      process.execPath,
      ['-e', "require('nest-service-auth'); console.log(JSON.stringify(Object.keys(require.cache)))"],
      {
        cwd: appDir(11),
        env: userEnvironment(),
      },
    );
    const loaded = packagesOf(JSON.parse(stdout) as string[]);
    expect(loaded.has('@nestjs/common')).toBe(true);
    expect(OPTIONAL_PEERS.filter((name) => loaded.has(name))).toEqual([]);
    expect(loaded.has('cockatiel')).toBe(false);
  });

  it("each entry's declarations, ESM and CommonJS, import only that entry's peers", () => {
    const installed = join(appDir(11), 'node_modules/nest-service-auth');
    type Conditions = Partial<Record<'import' | 'require', { types?: string }>>;
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { exports: Record<string, Conditions | string> };
    const entries = Object.keys(manifest.exports).filter((entry) => entry !== './package.json');
    expect(entries.sort()).toEqual(Object.keys(ENTRY_PEERS).sort());
    for (const entry of entries) {
      for (const condition of ['import', 'require'] as const) {
        const types = (manifest.exports[entry] as Conditions)[condition]?.types;
        const outside = types ? declarationImports(join(installed, types)).filter((name) => !ENTRY_PEERS[entry].includes(name)) : undefined;
        expect({ entry, condition, outside }).toEqual({ entry, condition, outside: [] });
      }
    }
  });

  it('installs without an engine warning about the library or its dependencies', () => {
    expect(installLogs['plain-node']).not.toMatch(/EBADENGINE/);
    for (const log of Object.values(installLogs)) expect(log).not.toMatch(/EBADENGINE[^\n]*package: '(nest-service-auth|cockatiel)@/);
  });
});
