import { Catch, type ExceptionFilter } from '@nestjs/common';
import { of, type Observable } from 'rxjs';
import { MessageEventRefusal } from '../verification/context-refusal.js';

/**
 * Ends a refused event's handler quietly, as if it had returned nothing. Bound to every controller
 * with message handlers (bindMessageEnhancers).
 *
 * Why: Nest runs the handlers of one event pattern together and fails them all when one fails
 * (forkJoin), cancelling those that have not run yet. One handler's trust list or encryption policy
 * refusing a verified event must not keep it from the handlers that accept it. The refusal was
 * logged and counted by the guard; there is no one to answer. One value, not none: an empty stream
 * would end the others just the same.
 */
@Catch(MessageEventRefusal)
export class EventRefusalFilter implements ExceptionFilter<MessageEventRefusal> {
  catch(): Observable<undefined> {
    return of(undefined);
  }
}
