/**
 * The library README's quick start, run as a reader runs it: `keygen` prints the pair's credential,
 * the four files of the quick start (each service's app.module.ts and main.ts, exactly as written)
 * run as two Node.js processes with those environments, and the order-service route makes one signed
 * call to inventory-service. An unsigned request straight to the callee is refused as the README says.
 *
 * The files are compiled with SWC (as Jest compiles them) next to the library's sources, and
 * `nest-service-auth` resolves to those sources: no build of the package needed.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { transformSync } from '@swc/core';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { compileCli, type CompiledCli } from './support/cli-from-source.js';
import { REPOSITORY_ROOT, snippetsOf } from './support/doc-snippets.js';
import { parseEnvBlocks } from './support/env-lines.js';
import { findFreePort, LOOPBACK, sleep, waitForExit } from './support/server-process.js';

const README = 'libs/service-auth/README.md';
const LIBRARY_SOURCE = join(REPOSITORY_ROOT, 'libs/service-auth/src');
const FILES = [
  'inventory-service/src/app.module.ts',
  'inventory-service/src/main.ts',
  'order-service/src/app.module.ts',
  'order-service/src/main.ts',
];

/** SWC settings of jest.config.js: Nest's legacy decorators and their metadata. */
function compile(code: string, filename: string, commonjs = false): string {
  return transformSync(code, {
    filename,
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: commonjs ? 'commonjs' : 'es6' },
    sourceMaps: false,
  }).code;
}

/** The library's sources (not its specs) compiled into `out`, as the package's entries would load. */
function compileLibrary(out: string): void {
  for (const name of readdirSync(LIBRARY_SOURCE, { recursive: true, encoding: 'utf8' })) {
    if (!/\.c?ts$/.test(name) || name.endsWith('.spec.ts')) continue;
    const commonjs = name.endsWith('.cts');
    const target = join(out, name.replace(/\.ts$/, '.js').replace(/\.cts$/, '.cjs'));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, compile(readFileSync(join(LIBRARY_SOURCE, name), 'utf8'), name, commonjs));
  }
}

/** A quick-start file compiled, `nest-service-auth[/entry]` pointed at the compiled library, relative imports given `.js`. */
function compileSnippet(code: string, file: string, out: string, library: string): void {
  const target = join(out, file.replace(/\.ts$/, '.js'));
  const toLibrary = relative(dirname(target), library).split('\\').join('/');
  const js = compile(code, file)
    .replace(/from '(nest-service-auth)(?:\/(\w+))?'/g, (_, _name: string, entry?: string) => `from '${toLibrary}/${entry ?? 'index'}.js'`)
    .replace(/from '(\.{1,2}\/[^']+?)'/g, (match, path: string) => (path.endsWith('.js') ? match : `from '${path}.js'`));
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, js);
}

interface Service {
  process: ChildProcess;
  output: () => string;
}

function start(main: string, env: Record<string, string>): Service {
  let output = '';
  const child = spawn(process.execPath, [main], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { process: child, output: () => output };
}

/** Resolves once `url` answers at all (any status), or fails with the service's output. */
async function waitUntilServing(url: string, service: Service): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (service.process.exitCode !== null) throw new Error(`${url}: the service exited:\n${service.output()}`);
    try {
      await fetch(url);
      return;
    } catch {
      await sleep(50);
    }
  }
  throw new Error(`${url}: not serving after 10 s:\n${service.output()}`);
}

describe('the README quick start, pasted and run', () => {
  let work: string;
  let cli: CompiledCli;
  const services: Service[] = [];
  let inventoryUrl: string;
  let orderUrl: string;

  beforeAll(async () => {
    const snippets = snippetsOf(README, readFileSync(join(REPOSITORY_ROOT, README), 'utf8'));
    // Inside the repository, so that the files resolve @nestjs/* and rxjs from its node_modules, as an app does.
    mkdirSync(join(REPOSITORY_ROOT, 'node_modules/.cache'), { recursive: true });
    work = mkdtempSync(join(REPOSITORY_ROOT, 'node_modules/.cache/quick-start-'));
    writeFileSync(join(work, 'package.json'), '{"type":"module"}\n');
    const library = join(work, 'nest-service-auth');
    compileLibrary(library);
    for (const file of FILES) {
      const snippet = snippets.find((candidate) => candidate.file === file);
      if (!snippet) throw new Error(`${README} has no block for ${file}`);
      compileSnippet(snippet.code, file, work, library);
    }

    const [inventoryPort, orderPort] = [await findFreePort(), await findFreePort()];
    inventoryUrl = `http://${LOOPBACK}:${inventoryPort}`;
    orderUrl = `http://${LOOPBACK}:${orderPort}`;
    cli = compileCli();
    const keygen = await cli.run(['keygen', 'order-service', 'inventory-service', '--url', inventoryUrl]);
    expect(keygen.status).toBe(0);
    const [callerEnv, calleeEnv] = parseEnvBlocks(keygen.stdout);
    expect(Object.keys(callerEnv)).toContain('SERVICE_AUTH_UPSTREAMS');
    expect(Object.keys(calleeEnv)).toContain('SERVICE_AUTH_CALLERS');

    const inventory = start(join(work, 'inventory-service/src/main.js'), { ...calleeEnv, PORT: String(inventoryPort) });
    services.push(inventory);
    await waitUntilServing(`${inventoryUrl}/health`, inventory);
    const order = start(join(work, 'order-service/src/main.js'), { ...callerEnv, PORT: String(orderPort) });
    services.push(order);
    await waitUntilServing(orderUrl, order);
  }, 60_000);

  afterAll(async () => {
    for (const service of services) service.process.kill('SIGTERM');
    await Promise.all(services.map((service) => waitForExit(service.process)));
    cli?.remove();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('POST /orders on order-service makes one signed call to inventory-service', async () => {
    const res = await fetch(`${orderUrl}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ productId: 'P123', quantity: 2 }),
    });
    expect({ status: res.status, body: await res.json() }).toEqual({
      status: 201,
      body: { reserved: 'P123', quantity: 2, for: 'order-service' },
    });
  });

  it('an unsigned request straight to inventory-service is refused with 401 api_key_missing', async () => {
    const res = await fetch(`${inventoryUrl}/api/inventory`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ productId: 'P123', quantity: 2 }),
    });
    expect({ status: res.status, body: await res.json() }).toEqual({
      status: 401,
      body: expect.objectContaining({ statusCode: 401, error: 'Unauthorized', reason: 'api_key_missing' }),
    });
  });
});
