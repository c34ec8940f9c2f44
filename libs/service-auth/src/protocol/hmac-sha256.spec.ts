import { describe, expect, it } from '@jest/globals';
import { createHmac, randomBytes } from 'node:crypto';
import { hmacSha256, verifyHmacSha256 } from './hmac-sha256.js';

const hex = (s: string) => Buffer.from(s, 'hex');

describe('hmacSha256', () => {
  // RFC 4231 §4: the HMAC-SHA-256 test cases whose data is text (hmacSha256 takes the signature base as a string).
  it.each([
    ['test case 1', hex('0b'.repeat(20)), 'Hi There', 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7'],
    [
      'test case 2 (short key)',
      Buffer.from('Jefe'),
      'what do ya want for nothing?',
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    ],
    [
      'test case 6 (key longer than a block)',
      hex('aa'.repeat(131)),
      'Test Using Larger Than Block-Size Key - Hash Key First',
      '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
    ],
    [
      'test case 7 (key and data longer than a block)',
      hex('aa'.repeat(131)),
      'This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.',
      '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2',
    ],
  ])('gives RFC 4231 %s', (_name, key, data, mac) => {
    expect(hmacSha256(key, data).toString('hex')).toBe(mac);
  });

  it('gives what createHmac gives, for keys of 0 to 130 bytes and messages of any length, UTF-8 included', () => {
    const texts = [
      '',
      'a',
      'é',
      '日本',
      '\u{1F600}',
      'x'.repeat(63),
      'x'.repeat(64),
      'y'.repeat(65),
      'z'.repeat(5000),
      '\u00ff'.repeat(700),
      '\u4e00'.repeat(1500),
    ];
    for (let keyLength = 0; keyLength <= 130; keyLength++) {
      const key = randomBytes(keyLength);
      for (const text of [...texts, randomBytes(keyLength * 7).toString('latin1')]) {
        const expected = createHmac('sha256', key).update(text, 'utf8').digest('hex');
        expect({ keyLength, text: text.slice(0, 20), mac: hmacSha256(key, text).toString('hex') }).toEqual({
          keyLength,
          text: text.slice(0, 20),
          mac: expected,
        });
      }
    }
  });

  it('follows a key whose bytes are changed in place, and tells keys of the same bytes apart from none', () => {
    const key = randomBytes(32);
    const before = hmacSha256(key, 'm');
    key[0] ^= 1;
    expect(hmacSha256(key, 'm')).toEqual(createHmac('sha256', key).update('m').digest());
    expect(hmacSha256(key, 'm')).not.toEqual(before);
    expect(hmacSha256(Uint8Array.from(key), 'm')).toEqual(hmacSha256(key, 'm'));
  });

  it('verifyHmacSha256 accepts the MAC, and refuses another one, a truncated one and an empty one', () => {
    const key = randomBytes(32);
    const mac = createHmac('sha256', key).update('base').digest();
    expect(verifyHmacSha256(key, 'base', mac)).toBe(true);
    const flipped = Buffer.from(mac);
    flipped[31] ^= 0x80;
    expect(verifyHmacSha256(key, 'base', flipped)).toBe(false);
    expect(verifyHmacSha256(key, 'base', mac.subarray(0, 31))).toBe(false);
    expect(verifyHmacSha256(key, 'base', Buffer.alloc(0))).toBe(false);
  });
});
