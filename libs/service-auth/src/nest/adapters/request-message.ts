import type { IncomingHttpHeaders } from 'node:http';
import type { HttpMessage } from '../../protocol/http-message.js';
import { nodeRequest, requestTarget, type ServiceAuthRequest } from './service-auth-request.js';

/** Adapts an Express or Fastify request to the protocol's framework-free message view. */
export function requestMessage(req: ServiceAuthRequest): HttpMessage {
  const raw = nodeRequest(req);
  return new NodeRequestMessage(
    raw.method ?? 'GET',
    requestTarget(req),
    raw.headers,
    (raw.socket as { encrypted?: boolean } | undefined)?.encrypted ? 'https' : 'http',
  );
}

/**
 * One object per request, its `header` shared on the prototype: built on every request, it costs an
 * allocation and no closure, and every such view has the same shape for the verifier's call sites.
 */
class NodeRequestMessage implements HttpMessage {
  readonly authority: string | undefined;
  /** A private field: the headers (the API key among them) stay out of what prints the message. */
  readonly #headers: IncomingHttpHeaders;

  constructor(
    readonly method: string,
    readonly target: string,
    headers: IncomingHttpHeaders,
    readonly scheme: string,
  ) {
    this.#headers = headers;
    this.authority = headers.host;
  }

  header(name: string): string | undefined {
    return headerOf(this.#headers, name);
  }
}

/** A field value of Node's headers object as HttpMessage.header gives it. */
export function headerOf(headers: IncomingHttpHeaders, name: string): string | undefined {
  // Own properties only: Node's headers object inherits from Object.prototype, so a covered
  // component named `constructor` or `__proto__` would otherwise read a function or an object.
  if (!Object.hasOwn(headers, name)) return undefined;
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}
