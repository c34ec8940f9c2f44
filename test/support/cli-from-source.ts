/**
 * The library's command-line tool, run as a user runs it (a separate Node.js process, argv, stdout,
 * stderr, exit status) but from the source under test: the files it imports, compiled one by one with
 * SWC (as Jest compiles them) into a temporary directory. No build of the package needed.
 */
import { transformFileSync } from '@swc/core';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCE = fileURLToPath(new URL('../../libs/service-auth/src/', import.meta.url));
const ENTRY = 'cli/main.ts';

export interface CliRun {
  status: number;
  stdout: string;
  stderr: string;
}

export interface CompiledCli {
  /** Runs `nest-service-auth <args>` with exactly `env` as its environment (plus PATH), and `stdin` as its input. */
  run(args: string[], options?: { env?: Record<string, string>; stdin?: string }): Promise<CliRun>;
  /** Every package the tool's files import (node: built-ins included): what it needs installed. */
  readonly imports: string[];
  remove(): void;
}

/** Compiles the tool and every file it imports, following relative imports from cli/main.ts. */
export function compileCli(): CompiledCli {
  const out = mkdtempSync(join(tmpdir(), 'nest-service-auth-cli-'));
  writeFileSync(join(out, 'package.json'), '{"type":"module"}\n');
  const imports = new Set<string>();
  const pending = [resolve(SOURCE, ENTRY)];
  const seen = new Set<string>();
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const { code } = transformFileSync(file, {
      jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
      module: { type: 'es6' },
      sourceMaps: false,
    });
    const target = join(out, relative(SOURCE, file).replace(/\.ts$/, '.js'));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, code);
    for (const [, specifier] of readFileSync(file, 'utf8').matchAll(/^(?:import|export)\s[^'"]*?from\s+'([^']+)'/gm)) {
      if (specifier.startsWith('.')) pending.push(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
      else imports.add(specifier);
    }
  }
  const main = join(out, ENTRY.replace(/\.ts$/, '.js'));
  return {
    imports: [...imports].sort(),
    run(args, options = {}) {
      return new Promise((resolveRun) => {
        const child = execFile(
          process.execPath,
          [main, ...args],
          { env: { PATH: process.env.PATH ?? '', ...options.env }, timeout: 20_000 },
          (error, stdout, stderr) => {
            const status = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
            resolveRun({ status, stdout, stderr });
          },
        );
        child.stdin?.end(options.stdin ?? '');
      });
    },
    remove: () => rmSync(out, { recursive: true, force: true }),
  };
}
