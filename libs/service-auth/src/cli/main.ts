#!/usr/bin/env node
/**
 * The `nest-service-auth` command (the package's `bin`): keys for a pair of services, and their
 * rotation. Everything it does is in run-cli.ts; this file only connects it to the process.
 */
import { runCli } from './run-cli.js';

function readStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('Paste the current key (keyId:apiKey:secret), then press Ctrl-D:\n');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    process.stdin.on('data', (chunk: Buffer) => chunks.push(chunk));
    process.stdin.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.once('error', reject);
  });
}

// `void`: runCli resolves an exit status for every expected failure; anything else is left to Node's
// unhandled-rejection report, which prints it and exits 1.
void runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  readStdin,
}).then((status) => {
  process.exitCode = status;
});
