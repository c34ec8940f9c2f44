import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { MessageAnswerRefusedError } from './message-answer-refused.error.js';
import { openSignedAnswer, signAnswer } from './signed-answer.js';

const key = { id: 'k1', hmacKey: randomBytes(32), encryptionKey: randomBytes(32) };
const binding = { nonce: 'request-nonce-0000000000000001', callerId: 'order-service' };
const open = (answer: unknown, nonce = binding.nonce, callerId = binding.callerId, sealed = false) =>
  openSignedAnswer(answer, { nonce, callerId, upstream: 'inventory-service', sealed }, (id) => (id === key.id ? key : undefined));
const reasonOf = (run: () => unknown): string | undefined => {
  try {
    run();
  } catch (err) {
    if (err instanceof MessageAnswerRefusedError) return err.reason;
    throw err;
  }
  return undefined;
};

describe('signed answers', () => {
  it('opens an answer signed for this request, with a value or without one', () => {
    expect(open(signAnswer({ stock: 4 }, key, binding))).toEqual({ stock: 4 });
    expect(open(signAnswer(undefined, key, binding))).toBeUndefined();
  });

  it('refuses an unsigned answer, and one bound to another request, caller or key, or with altered bytes', () => {
    const answer = signAnswer({ stock: 4 }, key, binding);
    expect(reasonOf(() => open({ stock: 4 }))).toBe('answer_unsigned');
    expect(reasonOf(() => open(answer, 'another-request-nonce-00000001'))).toBe('answer_invalid');
    expect(reasonOf(() => open(answer, binding.nonce, 'billing-service'))).toBe('answer_invalid');
    expect(reasonOf(() => open(signAnswer({ stock: 4 }, { id: 'k1', hmacKey: randomBytes(32) }, binding)))).toBe('answer_invalid');
    expect(reasonOf(() => open({ ...answer, payload: '{"stock":400}' }))).toBe('answer_invalid');
    expect(reasonOf(() => open({ ...answer, payload: '' }))).toBe('answer_invalid');
  });

  it('refuses an answer whose text is not the one signed though its UTF-8 bytes are (a lone surrogate for U+FFFD)', () => {
    const answer = signAnswer({ name: 'p\uFFFD' }, key, binding);
    const forged = { ...answer, payload: answer.payload.replace('\uFFFD', '\uD800') };
    expect(Buffer.from(forged.payload, 'utf8').equals(Buffer.from(answer.payload, 'utf8'))).toBe(true);
    expect(open(answer)).toEqual({ name: 'p\uFFFD' });
    expect(reasonOf(() => open(forged))).toBe('answer_invalid');
  });

  it('seals an answer (no value as null), opens it, and says so under the signature', () => {
    const sealed = signAnswer({ stock: 4 }, key, binding, undefined, { seal: true });
    expect(sealed.serviceAuthAnswer['content-type']).toBe('application/jose');
    expect(sealed.payload).not.toContain('stock');
    expect(open(sealed, binding.nonce, binding.callerId, true)).toEqual({ stock: 4 });
    expect(open(signAnswer(undefined, key, binding, undefined, { seal: true }), binding.nonce, binding.callerId, true)).toBeNull();
    // Its content-type dropped: no longer what was signed.
    const { ['content-type']: _dropped, ...unmarked } = sealed.serviceAuthAnswer;
    expect(reasonOf(() => open({ ...sealed, serviceAuthAnswer: unmarked }))).toBe('answer_invalid');
  });

  it('refuses a plaintext answer where a sealed one was asked for, and a sealed one for another nonce', () => {
    expect(reasonOf(() => open(signAnswer({ stock: 4 }, key, binding), binding.nonce, binding.callerId, true))).toBe('answer_not_sealed');
    const other = { ...binding, nonce: 'another-request-nonce-00000001' };
    const sealedForOther = signAnswer({ stock: 4 }, key, other, undefined, { seal: true });
    expect(reasonOf(() => open(sealedForOther, binding.nonce, binding.callerId, true))).toBe('answer_invalid');
  });
});
