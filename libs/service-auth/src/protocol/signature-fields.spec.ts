import { describe, it, expect } from '@jest/globals';
import { ServiceAuthError } from '../errors/service-auth.error.js';
import { parseSignatureFields, serializeSignatureParams } from './signature-fields.js';

const SIG = 'sig1=:dGVzdA==:';
const VALID_INPUT =
  'sig1=("@method" "@path" "@query" "x-api-key");created=1700000000;nonce="abcdefghijklmnopqrstuv";keyid="k1";alg="hmac-sha256"';

/** Every hostile input must end as signature_malformed, never as another exception type (a 500). */
function malformedReason(input: string, signature = SIG): ServiceAuthError {
  let thrown: unknown;
  try {
    parseSignatureFields(input, signature);
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(ServiceAuthError);
  expect((thrown as ServiceAuthError).reason).toBe('signature_malformed');
  expect((thrown as ServiceAuthError).status).toBe(400);
  return thrown as ServiceAuthError;
}

describe('parseSignatureFields: well-formed input', () => {
  it('parses label, components, parameters, signature bytes and the canonical @signature-params', () => {
    const [parsed, ...rest] = parseSignatureFields(VALID_INPUT, SIG);
    expect(rest).toHaveLength(0);
    expect(parsed.label).toBe('sig1');
    expect(parsed.components).toEqual(['@method', '@path', '@query', 'x-api-key']);
    expect(parsed.params).toEqual({ created: 1700000000, nonce: 'abcdefghijklmnopqrstuv', keyid: 'k1', alg: 'hmac-sha256' });
    expect(parsed.signature.toString('utf8')).toBe('test');
    expect(parsed.signatureParams).toBe(VALID_INPUT.slice('sig1='.length));
  });

  it('@signature-params is re-serialised canonically (extra whitespace dropped, parameter order kept)', () => {
    const [parsed] = parseSignatureFields('sig1=(  "@method"   "@path" );keyid="k";created=5', SIG);
    expect(parsed.signatureParams).toBe('("@method" "@path");keyid="k";created=5');
  });

  it('returns every label present in both fields, and ignores extra Signature members', () => {
    const parsed = parseSignatureFields('a=("@method");created=1, b=("@path");created=2', 'a=:AQ==:, b=:Ag==:, c=:Aw==:');
    expect(parsed.map((p) => [p.label, p.components, p.params.created, [...p.signature]])).toEqual([
      ['a', ['@method'], 1, [1]],
      ['b', ['@path'], 2, [2]],
    ]);
  });

  it('accepts an empty component list, expires and tag', () => {
    const [parsed] = parseSignatureFields('sig1=();created=1;expires=2;tag="t"', SIG);
    expect(parsed.components).toEqual([]);
    expect(parsed.params).toEqual({ created: 1, expires: 2, tag: 't' });
  });

  it('accepts exactly 32 components', () => {
    const names = Array.from({ length: 32 }, (_, i) => `"x-h${i}"`).join(' ');
    expect(parseSignatureFields(`sig1=(${names})`, SIG)[0].components).toHaveLength(32);
  });
});

describe('parseSignatureFields: hostile input is signature_malformed', () => {
  it('garbage', () => {
    malformedReason('garbage that is not a dictionary !!!');
    malformedReason('sig1=(');
    malformedReason('=("@method")');
    malformedReason(';;;');
  });

  it('garbage in the Signature field', () => {
    malformedReason(VALID_INPUT, 'not base64 ((');
    malformedReason(VALID_INPUT, 'sig1=:not base64:');
  });

  it('an empty Signature-Input', () => {
    expect(malformedReason('').message).toMatch(/empty/);
  });

  it('unbalanced parentheses', () => {
    malformedReason('sig1=("@method" "@path";created=1');
    malformedReason('sig1="@method" "@path");created=1');
    malformedReason('sig1=(("@method"))');
  });

  it('a member that is not an inner list', () => {
    expect(malformedReason('sig1="@method";created=1').message).toMatch(/inner list/);
    malformedReason('sig1=?1');
    malformedReason('sig1=42');
    malformedReason('sig1=:AAAA:');
    malformedReason('sig1');
  });

  it('integer (and other non-string) component identifiers', () => {
    expect(malformedReason('sig1=(1 2 3);created=1').message).toMatch(/must be strings/);
    malformedReason('sig1=(method);created=1');
    malformedReason('sig1=(?1);created=1');
    malformedReason('sig1=(:AAAA:);created=1');
  });

  it('components with parameters ("@method";req, ;sf, ;key, ;bs)', () => {
    expect(malformedReason('sig1=("@method";req);created=1').message).toMatch(/component parameters/);
    malformedReason('sig1=("x-dict";sf);created=1');
    malformedReason('sig1=("x-dict";key="a");created=1');
    malformedReason('sig1=("x-bin";bs);created=1');
    malformedReason('sig1=("@query-param";name="id");created=1');
  });

  it('a duplicated component (RFC 9421 §2.1: each identifier at most once)', () => {
    expect(malformedReason('sig1=("@method" "@path" "@method");created=1').message).toMatch(/twice/);
    malformedReason('sig1=("x-api-key" "x-api-key")');
  });

  it('an unknown signature parameter', () => {
    expect(malformedReason('sig1=("@method");created=1;foo="bar"').message).toMatch(/unknown parameter foo/);
    malformedReason('sig1=("@method");Created=1');
  });

  it('wrong parameter types', () => {
    expect(malformedReason('sig1=("@method");created="1700000000"').message).toMatch(/created must be a non-negative integer/);
    expect(malformedReason('sig1=("@method");nonce=12345').message).toMatch(/nonce must be a string/);
    malformedReason('sig1=("@method");created=-1');
    malformedReason('sig1=("@method");expires=-5');
    malformedReason('sig1=("@method");created=1.5');
    malformedReason('sig1=("@method");created');
    malformedReason('sig1=("@method");expires=?1');
    malformedReason('sig1=("@method");nonce=abc');
    malformedReason('sig1=("@method");keyid=:AAAA:');
    malformedReason('sig1=("@method");alg=hmac-sha256');
    malformedReason('sig1=("@method");tag=1');
  });

  it('a label in Signature-Input without its value in Signature', () => {
    expect(malformedReason(VALID_INPUT, 'other=:dGVzdA==:').message).toMatch(/no value for label "sig1"/);
    malformedReason(VALID_INPUT, '');
    malformedReason('a=("@method"), b=("@path")', 'a=:AQ==:');
  });

  it('a Signature value that is not a byte sequence', () => {
    for (const sig of ['sig1="dGVzdA=="', 'sig1=dGVzdA', 'sig1=1', 'sig1=?1', 'sig1=(:dGVzdA==:)', 'sig1']) {
      expect(malformedReason(VALID_INPUT, sig).message).toMatch(/byte sequence/);
    }
  });

  it('an oversized Signature-Input or Signature (> 8 KiB)', () => {
    const big = `sig1=("@method");created=1;tag="${'a'.repeat(8 * 1024)}"`;
    expect(malformedReason(big).message).toMatch(/too long/);
    malformedReason(VALID_INPUT, `sig1=:${'A'.repeat(8 * 1024 + 4)}:`);
  });

  it('33 or more components', () => {
    const names = (n: number) => Array.from({ length: n }, (_, i) => `"x-h${i}"`).join(' ');
    expect(malformedReason(`sig1=(${names(33)})`).message).toMatch(/too many components/);
    malformedReason(`sig1=(${names(200)})`);
  });

  it('control characters, DEL, NUL and unicode', () => {
    for (const evil of ['\u0000', '\u0001', '\u007f', '\t\u0007', 'é', '\u202e', '😀', '\uffff', '\ud800']) {
      malformedReason(`sig1=("@method${evil}");created=1`);
      malformedReason(`sig1=("@method");nonce="${evil}"`);
      malformedReason(`sig${evil}=("@method")`);
      malformedReason(VALID_INPUT, `sig1=:dGV${evil}zdA==:`);
    }
  });

  it('deeply nested or repeated structures', () => {
    malformedReason('sig1=' + '('.repeat(1000) + ')'.repeat(1000));
    malformedReason(Array.from({ length: 500 }, (_, i) => `l${i}=("@method")`).join(', ') + ', x=(');
    malformedReason('sig1=("@method");' + 'created=1;'.repeat(400) + 'x');
  });

  it('never throws anything but signature_malformed for random bytes and mutations of a valid header (fuzz)', () => {
    // Deterministic PRNG so a failure is reproducible.
    let seed = 0x9e3779b9;
    const rand = (n: number) => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const alphabet = '()"=;,:*?-._ \t@abcz019AZ\\/\u0000\u007fé' + VALID_INPUT;
    for (let i = 0; i < 1500; i++) {
      let input: string;
      if (i % 2 === 0) {
        input = Array.from({ length: 1 + rand(60) }, () => alphabet[rand(alphabet.length)]).join('');
      } else {
        const chars = [...VALID_INPUT];
        for (let m = 0; m < 1 + rand(4); m++) chars[rand(chars.length)] = alphabet[rand(alphabet.length)];
        input = chars.join('');
      }
      try {
        parseSignatureFields(input, SIG);
      } catch (err) {
        if (!(err instanceof ServiceAuthError) || err.reason !== 'signature_malformed') {
          throw new Error(`input ${JSON.stringify(input)} threw ${String(err)}`, { cause: err });
        }
      }
    }
  });
});

describe('serializeSignatureParams', () => {
  it('writes parameters in the fixed order created, expires, nonce, keyid, alg, tag regardless of input order', () => {
    const value = serializeSignatureParams(['@method', '@path'], {
      tag: 't',
      alg: 'hmac-sha256',
      keyid: 'k1',
      nonce: 'n',
      expires: 20,
      created: 10,
    });
    expect(value).toBe('("@method" "@path");created=10;expires=20;nonce="n";keyid="k1";alg="hmac-sha256";tag="t"');
  });

  it('omits parameters that are undefined and keeps component order', () => {
    expect(serializeSignatureParams(['x-api-key', '@query', '@method'], { created: 1, keyid: 'k' })).toBe(
      '("x-api-key" "@query" "@method");created=1;keyid="k"',
    );
    expect(serializeSignatureParams([], {})).toBe('()');
  });

  it('round-trips through parseSignatureFields', () => {
    const params = { created: 1700000000, expires: 1700000300, nonce: 'abc_DEF-123', keyid: 'key.2024', alg: 'hmac-sha256', tag: 'svc' };
    const serialized = serializeSignatureParams(['@method', '@authority', 'content-digest'], params);
    const [parsed] = parseSignatureFields(`sig1=${serialized}`, SIG);
    expect(parsed.params).toEqual(params);
    expect(parsed.components).toEqual(['@method', '@authority', 'content-digest']);
    expect(parsed.signatureParams).toBe(serialized);
  });
});
