import type { HttpMessage } from '../protocol/http-message.js';
import { nodeRequest } from './raw-body.js';

/** Adapts an Express or Fastify request to the protocol's framework-free message view. */
export function requestMessage(req: any): HttpMessage {
  const raw = nodeRequest(req);
  const headers = raw.headers;
  return {
    method: raw.method ?? 'GET',
    // originalUrl is the target as it arrived: Express routers rewrite req.url under a mount point,
    // Fastify's rewriteUrl rewrites raw.url (the guard checks that the router read what arrived).
    target: req.originalUrl ?? raw.url ?? '/',
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

/**
 * What the framework removed from the front of the target before routing: Express' `req.baseUrl` for
 * an application mounted under a path of another (empty otherwise). Fastify never mounts: always empty.
 */
export function mountPointOf(req: any): string {
  if (req.raw) return '';
  return typeof req.baseUrl === 'string' ? req.baseUrl : '';
}

/** The path without its query, for logs (queries can carry data that does not belong in logs). */
export function requestPath(req: any): string {
  const target: string = req.originalUrl ?? nodeRequest(req).url ?? '/';
  const q = target.indexOf('?');
  return q < 0 ? target : target.slice(0, q);
}
