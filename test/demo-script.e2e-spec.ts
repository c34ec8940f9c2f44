/**
 * The README's first command, `npm run demo`, run as a reader runs it: the script builds nothing
 * itself, so the repository is built first (`tsc -b`, incremental: quick when CI has built already),
 * then `scripts/demo.mjs` starts both services from dist/, places the real order and sends every
 * attack. It exits 0 only when every step got the answer it expects; on free ports here, so that it
 * runs next to the other suites. Both credential kinds: hmac-sha256 (the default) and ed25519.
 */
import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { REPOSITORY_ROOT } from './support/doc-snippets.js';
import { findFreePort } from './support/server-process.js';

const run = promisify(execFile);
const BUILD_TIMEOUT_MS = 240_000;
const DEMO_TIMEOUT_MS = 120_000;

async function demo(algorithm: 'hmac-sha256' | 'ed25519'): Promise<string> {
  const env = {
    ...process.env,
    NODE_OPTIONS: '',
    DEMO_ALGORITHM: algorithm,
    DEMO_ORDER_PORT: String(await findFreePort()),
    DEMO_INVENTORY_PORT: String(await findFreePort()),
    DEMO_INVENTORY_MESSAGE_PORT: String(await findFreePort()),
  };
  try {
    const { stdout } = await run(process.execPath, ['scripts/demo.mjs'], { cwd: REPOSITORY_ROOT, env, timeout: DEMO_TIMEOUT_MS });
    return stdout;
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string };
    throw new Error(`the demo failed:\n${failed.stdout ?? ''}\n${failed.stderr ?? ''}`, { cause: error });
  }
}

describe('npm run demo', () => {
  it(
    'builds, then every step of the demo gets the answer it expects, with hmac-sha256 and with ed25519 credentials',
    async () => {
      await run('npx', ['tsc', '-b', 'tsconfig.build.json'], { cwd: REPOSITORY_ROOT, timeout: BUILD_TIMEOUT_MS });

      const hmac = await demo('hmac-sha256');
      expect(hmac).toContain('Inventory updated for product P123. New stock: 98');
      expect(hmac).toMatch(/Signed message: inventory\.update over TCP[\s\S]*?✔ as expected/);
      expect(hmac).toMatch(/\n(\d+) passed, 0 failed/);

      const ed25519 = await demo('ed25519');
      expect(ed25519).toContain('Inventory updated for product P123. New stock: 98');
      expect(ed25519).toMatch(/\n(\d+) passed, 0 failed/);
    },
    BUILD_TIMEOUT_MS + 2 * DEMO_TIMEOUT_MS,
  );
});
