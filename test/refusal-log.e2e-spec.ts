/**
 * Every refusal is logged as exactly ONE line, whatever Nest logger the application uses:
 * - ConsoleLogger in text mode (with or without colours): `... WARN [ServiceAuth] service_auth_rejected reason=… status=… …`
 * - ConsoleLogger in JSON mode (`new ConsoleLogger({ json: true })`): one JSON record whose `message`
 *   is the refusal as an object.
 * Before, ConsoleLogger printed the entry object with util.inspect, one property per line.
 * One inventory-service runs in this process, its logger replaced for each mode (app.useLogger);
 * what it writes to stdout/stderr is captured while the refusals are sent, and no form carries a
 * key, a secret, a signature or the query.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { ConsoleLogger } from '@nestjs/common';
import { stripVTControlCharacters } from 'node:util';
import { startInventory, type RunningInventory } from './support/inventory-service.js';
import { rawRequest, signatureValue, signedHeaders, signingCredential, type RawRequest } from './support/raw-http.js';

interface Mode {
  name: string;
  logger: () => ConsoleLogger;
  json: boolean;
}

const MODES: Mode[] = [
  { name: 'text', logger: () => new ConsoleLogger({ colors: false }), json: false },
  { name: 'text with colours', logger: () => new ConsoleLogger({ colors: true }), json: false },
  { name: 'JSON', logger: () => new ConsoleLogger({ json: true }), json: true },
];

/** In the query of every request below: a log line must never contain it. */
const QUERY_SECRET = 'token-7d41c0-must-not-be-logged';
/** A long path, so that any wrapping at 80 columns would show. */
const LONG_ID = 'P'.repeat(180);

let inventory: RunningInventory;

beforeAll(async () => {
  inventory = await startInventory({ adapter: 'express', env: { ENCRYPTION_POLICY: 'optional' } });
}, 60_000);

afterAll(async () => {
  await inventory?.close();
});

describe.each(MODES)('refusal log lines with ConsoleLogger ($name)', (mode) => {
  /** Each write to stdout/stderr while the refusals were sent. */
  const writes: string[] = [];
  const secrets: string[] = [QUERY_SECRET];
  /** The refusals sent, in order: [reason, what the line must say about the caller]. */
  const sent: Array<{ reason: string; caller?: string; detail?: RegExp }> = [];

  beforeAll(async () => {
    inventory.app.useLogger(mode.logger());
    for (const key of [inventory.orderKey, inventory.auditKey]) secrets.push(key.apiKey, key.secret);
    const order = signingCredential(inventory.orderKey);
    const path = `/api/inventory/${LONG_ID}?token=${QUERY_SECRET}`;
    const send = async (request: RawRequest, expected: (typeof sent)[number]) => {
      const res = await rawRequest(inventory.url, request);
      expect(res.json).toMatchObject({ reason: expected.reason });
      sent.push(expected);
    };
    const signed = (init: { method: string; path: string }, credential = order, options?: Parameters<typeof signedHeaders>[3]) => {
      const headers = signedHeaders(inventory.url, credential, init, options);
      secrets.push(signatureValue(headers));
      return headers;
    };

    const spies = (['stdout', 'stderr'] as const).map((stream) =>
      jest.spyOn(process[stream], 'write').mockImplementation((chunk: string | Uint8Array) => {
        writes.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
        return true;
      }),
    );
    try {
      await send({ method: 'GET', path }, { reason: 'api_key_missing' });
      await send({ method: 'GET', path, headers: { 'x-api-key': `sk_${'x'.repeat(43)}` } }, { reason: 'api_key_invalid' });
      const forged = signed({ method: 'GET', path });
      forged['signature'] = forged['signature'].replace(/=:[^:]+:/, `=:${Buffer.alloc(32, 9).toString('base64')}:`);
      await send({ method: 'GET', path, headers: forged }, { reason: 'signature_invalid', caller: 'order-service' });
      // Signed for another service: the detail (`tag=…`) is part of the same line.
      await send(
        { method: 'GET', path, headers: signed({ method: 'GET', path }, { ...order, audience: 'billing-service' }) },
        {
          reason: 'audience_mismatch',
          caller: 'order-service',
          detail: /tag=billing-service/,
        },
      );
      const audit = signingCredential(inventory.auditKey);
      await send(
        { method: 'GET', path, headers: signed({ method: 'GET', path }, audit) },
        { reason: 'caller_not_trusted', caller: 'audit-service', detail: /caller=audit-service/ },
      );
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });

  const refusalWrites = () => writes.filter((w) => w.includes('service_auth_rejected'));

  it('writes exactly one line per refusal', () => {
    const lines = refusalWrites();
    expect(lines).toHaveLength(sent.length);
    for (const line of lines) {
      expect(line.endsWith('\n')).toBe(true);
      expect(line.slice(0, -1)).not.toContain('\n');
    }
    // Nothing else mentions a refusal (no second record, no continuation).
    expect(writes.filter((w) => /\breason\b/.test(w))).toHaveLength(sent.length);
  });

  it('says which refusal, for whom, on which path (without its query)', () => {
    const lines = refusalWrites();
    sent.forEach((expected, i) => {
      const line = lines[i];
      if (mode.json) {
        const record = JSON.parse(line) as { message?: unknown };
        expect(record).toMatchObject({ level: 'warn', context: 'ServiceAuth' });
        expect(record.message).toEqual({
          event: 'service_auth_rejected',
          reason: expected.reason,
          status: expected.reason === 'caller_not_trusted' ? 403 : 401,
          ...(expected.caller ? { caller: expected.caller } : {}),
          method: 'GET',
          path: `/api/inventory/${LONG_ID}`,
          ...(expected.detail ? { detail: expect.stringMatching(expected.detail) } : {}),
        });
      } else {
        const plain = stripVTControlCharacters(line);
        expect(plain).toMatch(/ WARN \[ServiceAuth\] service_auth_rejected reason=/);
        expect(plain).toContain(`reason=${expected.reason} `);
        expect(plain).toContain(expected.caller ? `caller=${expected.caller} ` : 'status=');
        if (!expected.caller) expect(plain).not.toContain('caller=');
        expect(plain).toContain(`method=GET path=/api/inventory/${LONG_ID}`);
        if (expected.detail) expect(plain).toMatch(expected.detail);
      }
    });
  });

  it('never contains a key, a secret, a signature or the query', () => {
    const everything = writes.join('');
    for (const s of secrets) expect(everything).not.toContain(s);
  });
});
