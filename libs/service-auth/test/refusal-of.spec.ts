import { describe, expect, it } from '@jest/globals';
import { ServiceAuthError } from '../src/errors/service-auth.error.js';
import { reasonOf, refusalOf, rejectedReasonOf, rejectionOf } from './refusal-of.js';

const refused = () => new ServiceAuthError('nonce_replayed', 'This request has already been received');

describe('the refusal helpers of the unit specs can fail', () => {
  it('rejectionOf: the rejection, or a failure when the promise resolves', async () => {
    const error = new Error('no');
    await expect(rejectionOf(Promise.reject(error))).resolves.toBe(error);
    await expect(rejectionOf(Promise.resolve(true))).rejects.toThrow('expected a refusal, got true');
    await expect(rejectionOf(Promise.resolve(undefined))).rejects.toThrow('expected a refusal, got undefined');
  });

  it('refusalOf / reasonOf: the ServiceAuthError thrown; a check that returns, or throws something else, fails', () => {
    expect(
      reasonOf(() => {
        throw refused();
      }),
    ).toBe('nonce_replayed');
    expect(
      refusalOf(() => {
        throw refused();
      }),
    ).toBeInstanceOf(ServiceAuthError);
    expect(() => reasonOf(() => 'fine')).toThrow('expected a refusal, got "fine"');
    const other = new TypeError('a bug, not a refusal');
    expect(() =>
      reasonOf(() => {
        throw other;
      }),
    ).toThrow(other);
  });

  it('rejectedReasonOf: the reason of a ServiceAuthError rejection; a resolution or another error fails', async () => {
    await expect(rejectedReasonOf(Promise.reject(refused()))).resolves.toBe('nonce_replayed');
    await expect(rejectedReasonOf(Promise.resolve({ ok: true }))).rejects.toThrow('expected a refusal, got {"ok":true}');
    await expect(rejectedReasonOf(Promise.reject(new RangeError('bug')))).rejects.toThrow(RangeError);
  });
});
