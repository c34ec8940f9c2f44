import type { ExecutionContext } from '@nestjs/common';
import type { MessageKind } from '../../messages/message-envelope.js';
import { patternRoute } from '../../messages/message-pattern.js';

/** @nestjs/microservices' metadata keys (read by name: the library does not import the package here). */
const PATTERN_METADATA = 'microservices:pattern';
const HANDLER_TYPE_METADATA = 'microservices:handler_type';
/** PatternHandler.EVENT */
const EVENT_HANDLER = 2;

/** A microservice message as the guard reads it from its execution context. */
export interface IncomingMessageView {
  readonly kind: MessageKind;
  /**
   * The pattern the transport routed the message by, as its context reports it (TCP and RabbitMQ
   * `getPattern()`, NATS `getSubject()`, Redis `getChannel()`, Kafka and MQTT `getTopic()`); undefined
   * for a transport whose context says none.
   */
  readonly route: string | undefined;
  /** The handler's declared pattern: bounded, for metrics and logs (a NATS wildcard's subjects are not). */
  readonly declaredPattern: string;
  readonly data: unknown;
  /** The transport's context object: one per message. */
  readonly rpcContext: object;
}

type RoutedPatternGetters = Partial<Record<'getPattern' | 'getSubject' | 'getChannel' | 'getTopic', () => unknown>>;

export function incomingMessageOf(context: ExecutionContext): IncomingMessageView {
  const rpc = context.switchToRpc();
  const rpcContext = rpc.getContext<RoutedPatternGetters | undefined>();
  const handler = context.getHandler();
  const declared = Reflect.getMetadata(PATTERN_METADATA, handler) as unknown[] | undefined;
  return {
    kind: Reflect.getMetadata(HANDLER_TYPE_METADATA, handler) === EVENT_HANDLER ? 'EMIT' : 'SEND',
    route: routedPattern(rpcContext),
    declaredPattern: declared?.length ? patternRoute(declared[0]) : 'unknown',
    data: rpc.getData<unknown>(),
    rpcContext: typeof rpcContext === 'object' && rpcContext !== null ? rpcContext : context,
  };
}

function routedPattern(rpcContext: RoutedPatternGetters | undefined): string | undefined {
  if (typeof rpcContext !== 'object' || rpcContext === null) return undefined;
  for (const getter of ['getPattern', 'getSubject', 'getChannel', 'getTopic'] as const) {
    const read = rpcContext[getter];
    if (typeof read !== 'function') continue;
    const value = read.call(rpcContext);
    if (typeof value === 'string') return value;
  }
  return undefined;
}
