/**
 * A flood of strangers is not a flood of log lines: refusals of requests that name no known caller
 * are logged in full up to `logging.strangerRefusalsPerSecond` per reason and second, and the rest
 * are counted in one `service_auth_rejected_suppressed` line per second. Every refusal is still a
 * line or part of a count, and the metrics see each one. A caller named only by its API key (an
 * invalid signature) is bounded the same way, per caller and reason. The same whether the early check (a request with a body) or the guard (one without) refuses.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startCallee, type CalleeApp } from './support/callee-app.js';
import { newCredential } from './support/credentials.js';
import { RecordingLogger, RecordingObserver } from './support/recording.js';
import { rawRequest, signedHeaders, signingCredential } from './support/raw-http.js';

const caller = newCredential('order-1');
const signing = signingCredential(caller, { audience: 'ledger-service' });
const PER_SECOND = 5;
const FLOOD = 30;

/** Full refusal lines and suppressed counts of one reason, from what was logged. */
function accountOf(warnings: string[], reason: string): { lines: number; suppressed: number; seconds: number[] } {
  let lines = 0;
  let suppressed = 0;
  const seconds: number[] = [];
  for (const w of warnings) {
    if (w.startsWith(`service_auth_rejected reason=${reason} `)) lines++;
    const summary = new RegExp(
      `^service_auth_rejected_suppressed reason=${reason} method=POST route=/echo suppressed=(\\d+) perSecond=${PER_SECOND} second=(\\d+)$`,
    ).exec(w);
    if (summary) {
      suppressed += Number(summary[1]);
      seconds.push(Number(summary[2]));
    }
  }
  return { lines, suppressed, seconds };
}

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.each(['express', 'fastify'] as const)('strangers flooding a service (%s)', (adapter) => {
  let callee: CalleeApp;
  let url: string;
  const logger = new RecordingLogger();
  const observer = new RecordingObserver();

  beforeAll(async () => {
    const options = {
      serviceId: 'ledger-service',
      keys: { callers: [{ id: 'order-service', keys: [caller] }] },
      metrics: { observer },
      logging: { strangerRefusalsPerSecond: PER_SECOND },
    };
    callee = await startCallee(adapter, options, ['order-service'], { logger });
    url = callee.url;
  });
  afterAll(async () => {
    await callee?.close();
  });

  it.each([
    ['with a body (the early check refuses, once the guard has refused one)', 'api_key_invalid', true],
    ['without a body (the guard refuses)', 'api_key_missing', false],
  ] as const)('%s: at most %s lines per second, the rest counted', async (_, reason, withBody) => {
    const headers: Record<string, string> = withBody ? { 'content-type': 'application/json' } : {};
    if (reason === 'api_key_invalid') headers['x-api-key'] = `sk_${'z'.repeat(40)}`;
    const refusalsBefore = observer.refusals.length;
    const firstSecond = Math.floor(Date.now() / 1000);
    for (let i = 0; i < FLOOD; i++) {
      const res = await rawRequest(url, { method: 'POST', path: '/echo', headers, body: withBody ? '{"n":1}' : undefined });
      expect(res.status).toBe(401);
      expect(res.json).toMatchObject({ reason });
    }
    const lastSecond = Math.floor(Date.now() / 1000);
    // every refusal is in the metrics
    expect(observer.refusals.length - refusalsBefore).toBe(FLOOD);
    expect(observer.refusals.slice(refusalsBefore).every((r) => r.reason === reason)).toBe(true);
    // every refusal is a line or part of a count, once the last second's count is said
    await until(() => {
      const { lines, suppressed } = accountOf(logger.warnings, reason);
      return lines + suppressed === FLOOD;
    });
    const { lines, suppressed, seconds } = accountOf(logger.warnings, reason);
    const secondsSpanned = lastSecond - firstSecond + 1;
    expect(lines).toBeGreaterThanOrEqual(PER_SECOND);
    expect(lines).toBeLessThanOrEqual(PER_SECOND * secondsSpanned);
    expect(suppressed).toBeGreaterThan(0);
    // one summary per second at most, each for a second of the flood
    expect(new Set(seconds).size).toBe(seconds.length);
    for (const s of seconds) expect(s >= firstSecond && s <= lastSecond).toBe(true);
  });

  it('bounds the refusals of a caller named only by its API key, and counts them under its name', async () => {
    const full = () => logger.warnings.filter((w) => w.startsWith('service_auth_rejected reason=signature_invalid ')).length;
    const suppressed = () =>
      logger.warnings
        .map((w) => /^service_auth_rejected_suppressed reason=signature_invalid caller=order-service suppressed=(\d+) /.exec(w))
        .reduce((n, m) => n + (m ? Number(m[1]) : 0), 0);
    const before = full();
    const started = Date.now();
    for (let i = 0; i < FLOOD; i++) {
      const headers = signedHeaders(url, signing, { method: 'POST', path: '/echo', body: '{"n":1}' });
      headers['signature'] = headers['signature'].replace(/=:[^:]+:/, `=:${Buffer.alloc(32, 7).toString('base64')}:`);
      const res = await rawRequest(url, { method: 'POST', path: '/echo', headers, body: '{"n":1}' });
      expect(res.json).toMatchObject({ reason: 'signature_invalid' });
    }
    const spanSeconds = Math.floor(Date.now() / 1000) - Math.floor(started / 1000) + 1;
    expect(full() - before).toBeLessThanOrEqual(PER_SECOND * spanSeconds);
    await until(() => full() - before + suppressed() === FLOOD);
  });
});
