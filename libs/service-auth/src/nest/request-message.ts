import type { HttpMessage } from '../protocol/http-message.js';
import { nodeRequest, requestTarget, type ServiceAuthRequest } from './service-auth-request.js';

/** Adapts an Express or Fastify request to the protocol's framework-free message view. */
export function requestMessage(req: ServiceAuthRequest): HttpMessage {
  const raw = nodeRequest(req);
  const headers = raw.headers;
  return {
    method: raw.method ?? 'GET',
    target: requestTarget(req),
    authority: headers.host,
    scheme: (raw.socket as { encrypted?: boolean } | undefined)?.encrypted ? 'https' : 'http',
    header(name: string) {
      // Own properties only: Node's headers object inherits from Object.prototype, so a covered
      // component named `constructor` or `__proto__` would otherwise read a function or an object.
      if (!Object.hasOwn(headers, name)) return undefined;
      const value = headers[name];
      return Array.isArray(value) ? value.join(', ') : value;
    },
  };
}
