import { KeyConfigurationError } from '../errors/key-configuration.error.js';
import { ID_PATTERN } from '../keys/key-ring.js';

/** The two ends of one credential: `callerId` signs, `calleeId` verifies. */
export interface ServicePair {
  readonly callerId: string;
  readonly calleeId: string;
}

/** Checks both ids with the key ring's own pattern, and that they name two services. */
export function checkServicePair(pair: ServicePair): void {
  for (const [what, id] of [
    ['<caller-id>', pair.callerId],
    ['<callee-id>', pair.calleeId],
  ] as const) {
    // The value is not echoed: a key list typed in the wrong place would put a secret in the message.
    if (!ID_PATTERN.test(id)) throw new KeyConfigurationError(`${what} must be a service id: 1-128 characters of A-Z a-z 0-9 . _ ~ -`);
  }
  if (pair.callerId === pair.calleeId) {
    // One service holding both ends would hold one API key twice, which its key ring refuses.
    throw new KeyConfigurationError(
      `<caller-id> and <callee-id> are both "${pair.callerId}": a credential is for calls from one service to another`,
    );
  }
}
