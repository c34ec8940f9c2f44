import type { ExecutionContext } from '@nestjs/common';
import { hasEnvelopeShape } from '../../messages/message-envelope.js';
import { parseDecryptedJson } from '../../crypto/decrypted-json.js';

/**
 * A @PublicRoute() message handler verifies nothing, but a signing client may still call it: its
 * handler gets the data the envelope carries, as it would from a plain client. Anything that is not
 * a well-formed envelope is handed over as it came.
 */
export function unwrapPublicMessage(context: ExecutionContext): true {
  const args = context.getArgs();
  const data: unknown = args[0];
  if (!hasEnvelopeShape(data) || typeof data.payload !== 'string') return true;
  try {
    args[0] = data.payload === '' ? undefined : parseDecryptedJson(data.payload);
  } catch {
    // Not JSON: the handler gets the envelope, as any other unexpected data.
  }
  return true;
}
