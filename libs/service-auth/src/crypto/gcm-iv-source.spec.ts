import { describe, it, expect } from '@jest/globals';
import { GCM_IV_BYTES, takeGcmIv } from './gcm-iv-source.js';

/** Draws n IVs, copied out (each is a view into the pool, valid until the next draw). */
function draw(n: number): string[] {
  return Array.from({ length: n }, () => {
    const iv = takeGcmIv();
    expect(iv.length).toBe(GCM_IV_BYTES);
    return iv.toString('hex');
  });
}

describe('takeGcmIv', () => {
  it('never hands out the same IV twice, across several refills of its block', () => {
    const ivs = draw(2000);
    expect(new Set(ivs).size).toBe(ivs.length);
  });

  it('refills its block, rather than going on with it, in a process other than the one that filled it (one started from a snapshot)', () => {
    takeGcmIv();
    // Each IV is a view into the block: its offset tells where in the block it was taken.
    expect(takeGcmIv().byteOffset).toBeGreaterThan(0);
    const pid = Object.getOwnPropertyDescriptor(process, 'pid')!;
    Object.defineProperty(process, 'pid', { ...pid, value: process.pid + 1 });
    try {
      const first = takeGcmIv();
      expect(first.byteOffset).toBe(0); // a new block, freshly filled
      expect(takeGcmIv().byteOffset).toBe(GCM_IV_BYTES);
    } finally {
      Object.defineProperty(process, 'pid', pid);
    }
  });
});
