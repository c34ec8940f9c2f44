import { describe, expect, it } from '@jest/globals';
import { CallerNonces } from './caller-nonces.js';

describe('CallerNonces', () => {
  it('keeps arrival order and membership through wrap-around, growth to its capacity and shrinking', () => {
    const nonces = new CallerNonces(1000);
    let next = 0; // nonce i expires at i
    let oldest = 0;
    const add = (n: number) => {
      for (let i = 0; i < n; i++, next++) nonces.add(`n${next}`, next);
    };
    const forgetBefore = (t: number) => {
      nonces.forgetExpired(t - 1);
      oldest = Math.max(oldest, t);
    };
    const check = () => {
      expect(nonces.size).toBe(next - oldest);
      expect(nonces.oldestExpiresAtMs).toBe(nonces.size === 0 ? undefined : oldest);
      for (const i of [oldest - 1, oldest, next - 1, next]) expect(nonces.has(`n${i}`)).toBe(i >= oldest && i < next);
    };

    add(50);
    forgetBefore(40); // head moves on: the ring wraps when it grows later
    check();
    add(990);
    check();
    expect(nonces.isFull).toBe(true); // 1000 live
    forgetBefore(1030); // down to 10 of 1000 slots: shrinks
    check();
    add(500);
    forgetBefore(1300);
    check();
    forgetBefore(next);
    check();
    expect(nonces.size).toBe(0);
    add(3);
    check();
  });

  it('forgetExpired stops at the first live nonce, even if later ones have expired', () => {
    const nonces = new CallerNonces(10);
    nonces.add('long', 100);
    nonces.add('short', 1);
    nonces.forgetExpired(50);
    expect(nonces.size).toBe(2);
    expect(nonces.oldestExpiresAtMs).toBe(100);
    nonces.forgetExpired(100);
    expect(nonces.size).toBe(0);
    expect(nonces.has('short')).toBe(false);
  });

  it('a capacity below the initial ring size is the ring size', () => {
    const nonces = new CallerNonces(3);
    for (let i = 0; i < 3; i++) nonces.add(`n${i}`, i);
    expect(nonces.isFull).toBe(true);
    nonces.forgetExpired(0);
    expect(nonces.isFull).toBe(false);
    nonces.add('n3', 3);
    expect([nonces.size, nonces.oldestExpiresAtMs]).toEqual([3, 1]);
  });
});
