import { envVariableNames } from '../keys/env-variable-names.js';
import type { KeygenResult } from './keygen.js';
import type { RotationPlan } from './rotation-plan.js';

/**
 * Characters that mean nothing to a POSIX shell or a dotenv parser in an assignment's value. `~` is
 * left out: bash expands it after `=` and `:`, and a key id may contain it.
 */
const PLAIN_VALUE = /^[A-Za-z0-9._:,/@%+=-]+$/;

/** `NAME=value`, single-quoted when the value needs it, so a line can be pasted into a shell or a .env file. */
export function envLine(name: string, value: string): string {
  return `${name}=${PLAIN_VALUE.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`}`;
}

function envLines(env: Record<string, string>): string[] {
  return Object.entries(env).map(([name, value]) => envLine(name, value));
}

/**
 * keygen's output: two blocks of `NAME=value` lines, one per service, with `#` comments a shell and
 * a .env file both ignore.
 */
export function formatKeygen(result: KeygenResult): string {
  const { callerId, calleeId, key } = result;
  const names = envVariableNames(result.prefix);
  const callerLines = envLines(result.callerEnv);
  if (result.urlIsPlaceholder) {
    const urlLine = callerLines.findIndex((line) => line.startsWith(`${names.upstreamUrl(calleeId)}=`));
    callerLines.splice(urlLine, 0, `# A placeholder: set ${calleeId}'s base URL here (or run keygen with --url).`);
  }
  return [
    `# nest-service-auth keygen: ${callerId} -> ${calleeId}, key ${key.id}`,
    result.algorithm === 'ed25519'
      ? '# One block per service. Each holds its own private key only: keep both out of version control.'
      : '# One block per service. Both hold the secret of this pair: keep them out of version control.',
    '',
    `# ${callerId} (the caller). Already calling other services? Add ${calleeId} to its ${names.upstreams} instead.`,
    ...callerLines,
    '',
    `# ${calleeId} (the callee). Already called by other services? Add ${callerId} to its ${names.callers} instead.`,
    ...envLines(result.calleeEnv),
    '',
  ].join('\n');
}

/** rotate's output: the three steps, each a comment saying who and why, and the line to set. */
export function formatRotation(plan: RotationPlan): string {
  const lines = [
    `# nest-service-auth rotate: ${plan.callerId} -> ${plan.calleeId}, key ${plan.key.id} replaces ${plan.previousKeyId}`,
    '# In this order. After each step, restart every replica of that service with the new value (a running',
    '# process does not re-read its environment), and only then go on to the next step.',
  ];
  plan.steps.forEach((step, i) => {
    lines.push(
      '',
      `# Step ${i + 1} of ${plan.steps.length}: ${step.service} (the ${step.side}) ${step.effect}.`,
      envLine(step.variable, step.value),
    );
  });
  const callerStep = plan.steps.find((step) => step.side === 'caller');
  if (callerStep) {
    lines.push(
      '',
      `# Later, once no answer to an old request can still arrive, ${callerStep.service} may keep only the new key in ${callerStep.variable}.`,
    );
  }
  lines.push('');
  return lines.join('\n');
}
