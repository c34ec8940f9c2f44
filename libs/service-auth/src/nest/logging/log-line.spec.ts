import { describe, expect, it } from '@jest/globals';
import { inspect } from 'node:util';
import { LogLine } from './log-line.js';

describe('LogLine', () => {
  const entry = () =>
    new LogLine({
      event: 'service_auth_rejected',
      reason: 'signature_invalid',
      status: 401,
      caller: undefined,
      method: 'POST',
      path: '/api/inventory/P%20123',
    });

  it('prints as `event key=value …` through util.inspect and String(), leaving out undefined fields', () => {
    const text = 'service_auth_rejected reason=signature_invalid status=401 method=POST path=/api/inventory/P%20123';
    expect(inspect(entry())).toBe(text);
    expect(inspect(entry(), { colors: true, compact: false, breakLength: 20 })).toBe(text);
    expect(String(entry())).toBe(text);
    // eslint-disable-next-line @typescript-eslint/restrict-template-expressions -- a LogLine in a template literal is the case under test
    expect(`${entry()}`).toBe(text);
  });

  it('serialises to its fields as an object (JSON loggers), and keeps them as own properties (pino-style loggers)', () => {
    const fields = {
      event: 'service_auth_rejected',
      reason: 'signature_invalid',
      status: 401,
      method: 'POST',
      path: '/api/inventory/P%20123',
    };
    expect(JSON.parse(JSON.stringify({ message: entry() }))).toEqual({ message: fields });
    expect({ ...entry() }).toEqual(fields);
    expect(Object.keys(entry())).toEqual(Object.keys(fields));
  });

  it('quotes any value that could break the line or forge a field', () => {
    const line = String(
      new LogLine({
        event: 'replay_store_error',
        message: 'connect ECONNREFUSED\n[Nest] 1 - forged line',
        detail: 'keyid=k1 reason=fake',
        quote: 'say "hi"',
        tab: 'a\tb',
        list: ['a', 'b c'],
        nested: { a: 'x\ny' },
        ok: true,
      }),
    );
    expect(line).not.toMatch(/[\n\r\t]/);
    expect(line).toBe(
      'replay_store_error message="connect ECONNREFUSED\\n[Nest] 1 - forged line" detail="keyid=k1 reason=fake" quote="say \\"hi\\"" tab="a\\tb" list=["a","b c"] nested={"a":"x\\ny"} ok=true',
    );
  });

  it('without a leading event, every field is key=value', () => {
    expect(String(new LogLine({ status: 503, event: 'late' }))).toBe('status=503 event=late');
  });
});
