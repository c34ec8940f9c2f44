import { MessageEventRefusal } from '../verification/context-refusal.js';

/**
 * Whether an error is the library's refusal of an event by one of its handlers. The library's own
 * filter ends it quietly so that the event's other handlers still run; an app's catch-all exception
 * filter bound to a message handler method is tried before it, and must rethrow such an error
 * (`if (isMessageEventRefusal(exception)) return throwError(() => exception);`).
 */
export function isMessageEventRefusal(error: unknown): boolean {
  return error instanceof MessageEventRefusal;
}
