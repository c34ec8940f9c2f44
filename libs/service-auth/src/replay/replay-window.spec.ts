import { describe, it, expect } from '@jest/globals';
import { reasonOf } from '../../test/refusal-of.js';
import { checkReplayWindow, DEFAULT_MAX_AGE_SECONDS, DEFAULT_MAX_FUTURE_SKEW_SECONDS } from './replay-window.js';

const NOW_S = 1_700_000_000;
const NOW_MS = NOW_S * 1000;

describe('checkReplayWindow', () => {
  it('has the documented defaults', () => {
    expect(DEFAULT_MAX_AGE_SECONDS).toBe(300);
    expect(DEFAULT_MAX_FUTURE_SKEW_SECONDS).toBe(5);
  });

  it('accepts a request created now and remembers its nonce until created + maxAge + 1 s', () => {
    expect(checkReplayWindow({ created: NOW_S }, NOW_MS)).toEqual({ nonceExpiresAtMs: (NOW_S + 301) * 1000 });
  });

  it('exactly maxAge old is accepted; one second more is request_expired', () => {
    expect(() => checkReplayWindow({ created: NOW_S - 300 }, NOW_MS)).not.toThrow();
    expect(reasonOf(() => checkReplayWindow({ created: NOW_S - 301 }, NOW_MS))).toBe('request_expired');
  });

  it('age is measured against the millisecond clock: maxAge plus a fraction of a second is expired', () => {
    expect(reasonOf(() => checkReplayWindow({ created: NOW_S - 300 }, NOW_MS + 1))).toBe('request_expired');
  });

  it('exactly the skew in the future is accepted; one second more is request_from_future', () => {
    expect(() => checkReplayWindow({ created: NOW_S + 5 }, NOW_MS)).not.toThrow();
    expect(reasonOf(() => checkReplayWindow({ created: NOW_S + 6 }, NOW_MS))).toBe('request_from_future');
  });

  it('bounds the future separately from the age: a request from the future is never valid for longer than maxAge + skew', () => {
    const { nonceExpiresAtMs } = checkReplayWindow({ created: NOW_S + 5 }, NOW_MS);
    expect(nonceExpiresAtMs).toBe((NOW_S + 5 + 300 + 1) * 1000);
    // At that time the same created is refused as too old, so the nonce is no longer needed.
    expect(reasonOf(() => checkReplayWindow({ created: NOW_S + 5 }, nonceExpiresAtMs))).toBe('request_expired');
    expect(() => checkReplayWindow({ created: NOW_S + 5 }, nonceExpiresAtMs - 1000)).not.toThrow();
  });

  it('the nonce expiry depends on created, not on the arrival time', () => {
    const early = checkReplayWindow({ created: NOW_S - 200 }, NOW_MS);
    const late = checkReplayWindow({ created: NOW_S - 200 }, NOW_MS + 90_000);
    expect(early).toEqual(late);
    expect(early.nonceExpiresAtMs).toBe((NOW_S - 200 + 301) * 1000);
  });

  it('expires in the past is request_expired; expires now or later is accepted', () => {
    expect(reasonOf(() => checkReplayWindow({ created: NOW_S - 10, expires: NOW_S - 1 }, NOW_MS))).toBe('request_expired');
    expect(() => checkReplayWindow({ created: NOW_S - 10, expires: NOW_S }, NOW_MS)).not.toThrow();
    expect(() => checkReplayWindow({ created: NOW_S - 10, expires: NOW_S + 100 }, NOW_MS)).not.toThrow();
  });

  it('a far-future expires does not extend the age limit', () => {
    expect(reasonOf(() => checkReplayWindow({ created: NOW_S - 301, expires: NOW_S + 86_400 }, NOW_MS))).toBe('request_expired');
  });

  it('honours custom maxAgeSeconds and maxFutureSkewSeconds', () => {
    const options = { maxAgeSeconds: 30, maxFutureSkewSeconds: 0 };
    expect(() => checkReplayWindow({ created: NOW_S - 30 }, NOW_MS, options)).not.toThrow();
    expect(reasonOf(() => checkReplayWindow({ created: NOW_S - 31 }, NOW_MS, options))).toBe('request_expired');
    expect(() => checkReplayWindow({ created: NOW_S }, NOW_MS, options)).not.toThrow();
    expect(reasonOf(() => checkReplayWindow({ created: NOW_S + 1 }, NOW_MS, options))).toBe('request_from_future');
    expect(checkReplayWindow({ created: NOW_S - 10 }, NOW_MS, options)).toEqual({ nonceExpiresAtMs: (NOW_S - 10 + 31) * 1000 });

    const generous = { maxAgeSeconds: 3600, maxFutureSkewSeconds: 60 };
    expect(() => checkReplayWindow({ created: NOW_S - 3600 }, NOW_MS, generous)).not.toThrow();
    expect(() => checkReplayWindow({ created: NOW_S + 60 }, NOW_MS, generous)).not.toThrow();
    expect(reasonOf(() => checkReplayWindow({ created: NOW_S + 61 }, NOW_MS, generous))).toBe('request_from_future');
  });
});
