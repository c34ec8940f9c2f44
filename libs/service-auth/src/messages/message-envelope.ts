import type { HttpMessage } from '../protocol/http-message.js';

/**
 * The signed form of a Nest microservice message (PROTOCOL.md "Signed messages"): the packet's
 * `data` is replaced by this envelope, whatever the transport. `payload` is the JSON text of the data
 * exactly as signed (its UTF-8 bytes are the digested body), and `serviceAuth` holds the fields an
 * HTTP request carries as headers, under the same lowercase names.
 */
export interface SignedMessageEnvelope {
  readonly serviceAuth: Readonly<Record<string, string>>;
  /** JSON text of the message's data; '' when the message has none. */
  readonly payload: string;
}

/**
 * A signed answer to a `send()`: the handler's value as JSON text, and a signature bound to the
 * request's nonce (see signed-answer.ts), so that no other answer can stand in for it.
 */
export interface SignedAnswerEnvelope {
  readonly serviceAuthAnswer: Readonly<Record<string, string>>;
  readonly payload: string;
}

/** The key the envelope's fields are under; a plain message never has it at the top level. */
export const ENVELOPE_FIELD = 'serviceAuth';
export const ANSWER_FIELD = 'serviceAuthAnswer';

/** The kind of message, signed as `@method`: an event cannot be replayed as a request, nor the reverse. */
export type MessageKind = 'SEND' | 'EMIT';

/** Whether `data` has the envelope's shape: an object with a `serviceAuth` member. */
export function hasEnvelopeShape(data: unknown): data is { serviceAuth: unknown; payload: unknown } {
  return typeof data === 'object' && data !== null && Object.prototype.hasOwnProperty.call(data, ENVELOPE_FIELD);
}

/** Whether `value` has the signed answer's shape. */
export function hasAnswerShape(value: unknown): value is { serviceAuthAnswer: unknown; payload: unknown } {
  return typeof value === 'object' && value !== null && Object.prototype.hasOwnProperty.call(value, ANSWER_FIELD);
}

/**
 * The envelope's string fields, by lowercase name, each trimmed as an HTTP field line is (RFC 9421
 * §2.1); anything else is not a field and is ignored.
 */
export function envelopeFields(value: unknown): Map<string, string> {
  const fields = new Map<string, string>();
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fields;
  for (const name in value) {
    if (!Object.hasOwn(value, name)) continue;
    const field = (value as Record<string, unknown>)[name];
    if (typeof field === 'string') fields.set(name.toLowerCase(), field.trim());
  }
  return fields;
}

/**
 * The HTTP message a signed message or answer is verified as: its kind as the method, its target,
 * and the envelope's fields (envelopeFields) as its headers. Read from the Map as it is, where
 * httpMessage() would copy a record into a Map of its own on every message.
 */
export function envelopeMessage(method: string, target: string, fields: ReadonlyMap<string, string>): HttpMessage {
  return { method, target, authority: fields.get('host'), header: (name) => fields.get(name) };
}
