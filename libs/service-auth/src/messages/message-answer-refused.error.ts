/** Why a signing message client refused an answer to its `send()`. */
export type MessageAnswerRefusedReason =
  /** The answer carries no signature: not from a callee that verified the request, or stripped in transit. */
  | 'answer_unsigned'
  /** A signature that does not bind this answer to this request (another nonce, caller or key, or altered bytes). */
  | 'answer_invalid'
  /** A plaintext answer where the client asked for a sealed one (it sent an encrypted message). */
  | 'answer_not_sealed';

/**
 * Emitted by a signing message client's `send()` when the answer is not bound to the request it
 * sent. It names the upstream and the pattern, never a key or the answer's content.
 */
export class MessageAnswerRefusedError extends Error {
  override readonly name = 'MessageAnswerRefusedError';

  constructor(
    /** The callee's service id. */
    readonly upstream: string,
    readonly reason: MessageAnswerRefusedReason,
  ) {
    super(
      reason === 'answer_unsigned'
        ? `The answer from ${upstream} is not signed: refused`
        : reason === 'answer_not_sealed'
          ? `The answer from ${upstream} is not sealed, and this request asked for a sealed answer: refused`
          : `The answer from ${upstream} is not bound to this request: refused`,
    );
  }
}
