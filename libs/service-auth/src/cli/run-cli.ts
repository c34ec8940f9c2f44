import { parseArgs } from 'node:util';
import { DEFAULT_ENV_PREFIX, envVariableNames } from '../keys/env-variable-names.js';
import { KeyConfigurationError } from '../errors/key-configuration.error.js';
import { formatKeygen, formatRotation } from './format-output.js';
import { keygen, type KeygenResult } from './keygen.js';
import { planRotation, type RotationPlan, type RotationRequest } from './rotation-plan.js';

/** What the tool may touch: two output streams, the environment, standard input. Never a file. */
export interface CliIo {
  /** Secrets go here, and only here. */
  stdout(text: string): void;
  /** Help on a usage error, and every message. Never a secret. */
  stderr(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
  readStdin(): Promise<string>;
  now?: () => Date;
}

/** What `keygen --json` prints: one object. */
export interface KeygenJson extends Pick<
  KeygenResult,
  'algorithm' | 'key' | 'answerKey' | 'encryptionKey' | 'url' | 'urlIsPlaceholder' | 'callerEnv' | 'calleeEnv'
> {
  readonly caller: string;
  readonly callee: string;
}

/** What `rotate --json` prints: one object. */
export interface RotationJson extends Pick<RotationPlan, 'previousKeyId' | 'key' | 'steps'> {
  readonly caller: string;
  readonly callee: string;
}

export const EXIT_OK = 0;
/** The input was understood but refused: an id, a URL, a current key the library would not accept. */
export const EXIT_REFUSED = 1;
/** The command line itself is wrong. */
export const EXIT_USAGE = 2;

export const USAGE = `Usage:
  nest-service-auth keygen <caller-id> <callee-id> [--alg hmac-sha256|ed25519] [--url <callee-url>] [--key-id <id>]
                           [--prefix <prefix>] [--json]
  nest-service-auth rotate <caller-id> <callee-id> [--current <key> | --current - | --from-env caller|callee]
                           [--key-id <id>] [--prefix <prefix>] [--json]

keygen  A fresh credential for calls from <caller-id> to <callee-id>, printed as the environment of
        both services: SERVICE_AUTH_UPSTREAMS, SERVICE_AUTH_UPSTREAM_<CALLEE>_URL and _KEYS for the
        caller, SERVICE_AUTH_CALLERS and SERVICE_AUTH_CALLER_<CALLER>_KEYS for the callee.
rotate  The pair's next credential and the three rollout steps, with the exact value to set at each:
        1. callee: old,new   2. caller: new,old   3. callee: new
        The current key (keyId:apiKey:secret, or keyId:apiKey:ed25519:<key>) comes from --current, from standard input with
        --current -, or from this environment: the caller's SERVICE_AUTH_UPSTREAM_<CALLEE>_KEYS or
        the callee's SERVICE_AUTH_CALLER_<CALLER>_KEYS (--from-env chooses when both are set).

        With --alg ed25519 the caller gets its private key, the callee only the public key, and the
        callee an answer key of its own (SERVICE_AUTH_ANSWER_KEYS; its public half goes to the caller
        as SERVICE_AUTH_UPSTREAM_<CALLEE>_ANSWER_KEYS) and an X25519 key that bodies are encrypted to
        (SERVICE_AUTH_ENCRYPTION_KEYS; public half: SERVICE_AUTH_UPSTREAM_<CALLEE>_ENCRYPTION_KEYS).
        A callee that already has these keys keeps them: give their public halves to the caller instead.

Options:
  --alg <alg>         keygen: hmac-sha256 (default, a shared secret) or ed25519 (no shared secret)
  --url <url>         the callee's base URL, for the caller's SERVICE_AUTH_UPSTREAM_<CALLEE>_URL
                      (default: a placeholder under .invalid, to be replaced)
  --key-id <id>       the new key's id (default: <caller-id>-<yyyy-mm>-<6 random hex digits>)
  --current <key>     rotate: the pair's current key; "-" reads it from standard input, which keeps
                      it out of the shell history and the process list
  --from-env <side>   rotate: read the current key from the variables of "caller" or "callee"
  --prefix <prefix>   variable name prefix, as EnvKeyProvider's \`prefix\` (default: ${DEFAULT_ENV_PREFIX})
  --json              print one JSON object instead of environment lines
  -h, --help          print this help

Secrets are written to standard output only, never to a file; messages go to standard error.
Exit status: 0 done, 1 refused (the message says why), 2 bad command line.
`;

class UsageError extends Error {}

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  url: { type: 'string' },
  'key-id': { type: 'string' },
  current: { type: 'string' },
  'from-env': { type: 'string' },
  prefix: { type: 'string' },
  alg: { type: 'string' },
} as const;

const PREFIX_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Runs one command line; resolves the exit status. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    return await run(argv, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`nest-service-auth: ${err.message}\n\n${USAGE}`);
      return EXIT_USAGE;
    }
    if (err instanceof KeyConfigurationError) {
      io.stderr(`nest-service-auth: ${err.message}\n`);
      return EXIT_REFUSED;
    }
    // Anything else is a bug here: its message, not a stack trace, and no input echoed.
    io.stderr(`nest-service-auth: unexpected error: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT_REFUSED;
  }
}

async function run(argv: readonly string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    // parseArgs names the option, never the value given to it.
    const message = (err as { message?: unknown } | undefined)?.message;
    throw new UsageError(typeof message === 'string' ? message.split('\n')[0] : 'invalid command line');
  }
  const { values, positionals } = parsed;
  if (values.help || positionals[0] === 'help') {
    io.stdout(USAGE);
    return EXIT_OK;
  }
  const [command, callerId, calleeId, ...extra] = positionals;
  if (command === undefined) throw new UsageError('a command is missing: keygen or rotate');
  if (command !== 'keygen' && command !== 'rotate') throw new UsageError('unknown command: the commands are keygen and rotate');
  // An extra argument is not echoed: it may be a key pasted without --current.
  if (callerId === undefined || calleeId === undefined || extra.length > 0)
    throw new UsageError(`${command} takes two arguments: <caller-id> <callee-id>`);
  if (values.prefix !== undefined && !PREFIX_PATTERN.test(values.prefix)) {
    throw new UsageError('--prefix must be a variable name prefix: letters, digits and _, not starting with a digit');
  }
  const now = io.now?.();

  if (command === 'keygen') {
    for (const option of ['current', 'from-env'] as const)
      if (values[option] !== undefined) throw new UsageError(`--${option} is an option of rotate`);
    if (values.alg !== undefined && values.alg !== 'hmac-sha256' && values.alg !== 'ed25519') {
      throw new UsageError('--alg is hmac-sha256 or ed25519');
    }
    const result = keygen({
      callerId,
      calleeId,
      url: values.url,
      keyId: values['key-id'],
      prefix: values.prefix,
      now,
      algorithm: values.alg,
    });
    if (values.json) {
      const { key, url, urlIsPlaceholder, callerEnv, calleeEnv, algorithm, answerKey, encryptionKey } = result;
      const printed: KeygenJson = {
        caller: callerId,
        callee: calleeId,
        algorithm,
        key,
        answerKey,
        encryptionKey,
        url,
        urlIsPlaceholder,
        callerEnv,
        calleeEnv,
      };
      io.stdout(`${JSON.stringify(printed, null, 2)}\n`);
    } else {
      io.stdout(formatKeygen(result));
    }
    if (result.urlIsPlaceholder) {
      io.stderr(
        `nest-service-auth: ${envVariableNames(values.prefix).upstreamUrl(calleeId)} is a placeholder (${result.url}): set ${calleeId}'s URL there, or pass --url\n`,
      );
    }
    return EXIT_OK;
  }

  if (values.url !== undefined) throw new UsageError('--url is an option of keygen: rotate changes keys only');
  if (values.alg !== undefined) throw new UsageError("--alg is an option of keygen: rotate keeps the current key's algorithm");
  const current = await currentKeys(values.current, values['from-env'], { callerId, calleeId, prefix: values.prefix }, io);
  const plan = planRotation({ callerId, calleeId, ...current, keyId: values['key-id'], prefix: values.prefix, now });
  if (values.json) {
    const { previousKeyId, key, steps } = plan;
    const printed: RotationJson = { caller: callerId, callee: calleeId, previousKeyId, key, steps };
    io.stdout(`${JSON.stringify(printed, null, 2)}\n`);
  } else {
    io.stdout(formatRotation(plan));
  }
  return EXIT_OK;
}

/** Where rotate finds the pair's current key: --current, standard input, or one side's variable. */
async function currentKeys(
  current: string | undefined,
  fromEnv: string | undefined,
  pair: { callerId: string; calleeId: string; prefix?: string },
  io: CliIo,
): Promise<Pick<RotationRequest, 'current' | 'currentSource'>> {
  if (current !== undefined && fromEnv !== undefined)
    throw new UsageError('give the current key either with --current or with --from-env, not both');
  if (current === '-') return { current: await io.readStdin(), currentSource: 'standard input' };
  if (current !== undefined) return { current, currentSource: '--current' };

  const names = envVariableNames(pair.prefix);
  const sides = { caller: names.upstreamKeys(pair.calleeId), callee: names.callerKeys(pair.callerId) };
  if (fromEnv !== undefined) {
    if (fromEnv !== 'caller' && fromEnv !== 'callee') throw new UsageError('--from-env is "caller" or "callee"');
    const variable = sides[fromEnv];
    const value = io.env[variable];
    if (value === undefined || value.trim() === '') throw new KeyConfigurationError(`${variable} is not set (--from-env ${fromEnv})`);
    return { current: value, currentSource: variable };
  }
  const set = Object.values(sides).filter((variable) => (io.env[variable] ?? '').trim() !== '');
  if (set.length === 0) {
    throw new UsageError(
      `the current key is missing: pass --current, or set ${sides.caller} (the caller's) or ${sides.callee} (the callee's)`,
    );
  }
  if (set.length === 2 && io.env[sides.caller]!.trim() !== io.env[sides.callee]!.trim()) {
    throw new UsageError(
      `${sides.caller} and ${sides.callee} are both set, and differ: choose one with --from-env caller or --from-env callee`,
    );
  }
  return { current: io.env[set[0]]!, currentSource: set[0] };
}
