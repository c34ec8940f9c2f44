import { splitTarget, type HttpMessage } from './http-message.js';
import { ServiceAuthError } from '../errors/service-auth.error.js';

/** Derived components (RFC 9421 §2.2) this implementation can cover. */
export const DERIVED_COMPONENTS = ['@method', '@target-uri', '@authority', '@scheme', '@request-target', '@path', '@query'] as const;

const DERIVED = new Set<string>(DERIVED_COMPONENTS);
const DEFAULT_PORTS: Record<string, string> = { http: '80', https: '443' };

/** A component name is a lowercase field name or one of the supported derived components. */
export function isSupportedComponent(name: string): boolean {
  if (name.charCodeAt(0) === 0x40 /* @ */) return DERIVED.has(name);
  return LOWERCASE_FIELD_NAME.test(name);
}

/** tchars (RFC 9110 §5.6.2) other than uppercase letters: what a lowercase field name is made of. */
const LOWERCASE_FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;

function normaliseAuthority(authority: string, scheme: string | undefined): string {
  const lower = authority.trim().toLowerCase();
  const colon = lower.lastIndexOf(':');
  if (
    colon > 0 &&
    !lower.endsWith(']') &&
    scheme &&
    Object.hasOwn(DEFAULT_PORTS, scheme) &&
    DEFAULT_PORTS[scheme] === lower.slice(colon + 1)
  ) {
    return lower.slice(0, colon);
  }
  return lower;
}

/** The value of one covered component, or undefined when the message does not have it. */
export function componentValue(message: HttpMessage, name: string): string | undefined {
  switch (name) {
    case '@method':
      return message.method;
    case '@path':
      return splitTarget(message.target).path;
    case '@query':
      return splitTarget(message.target).query;
    case '@request-target':
      return message.target;
    case '@authority':
      return message.authority === undefined ? undefined : normaliseAuthority(message.authority, message.scheme);
    case '@scheme':
      return message.scheme?.toLowerCase();
    case '@target-uri': {
      if (message.authority === undefined || message.scheme === undefined) return undefined;
      const { path, query } = splitTarget(message.target);
      const authority = normaliseAuthority(message.authority, message.scheme);
      return `${message.scheme.toLowerCase()}://${authority}${path}${query === '?' ? '' : query}`;
    }
    default: {
      const value = message.header(name);
      return value === undefined ? undefined : fieldValue(value);
    }
  }
}

/** RFC 9421 §2.1: leading and trailing whitespace is trimmed; obs-fold becomes a single space. */
function fieldValue(value: string): string {
  // Node's HTTP parser never hands over a line break; the regular expression is for the rest.
  return value.indexOf('\n') < 0 ? value.trim() : value.replace(/\s*\r\n\s+/g, ' ').trim();
}

function hasLineBreak(value: string): boolean {
  return value.indexOf('\n') >= 0 || value.indexOf('\r') >= 0;
}

/**
 * RFC 9421 §2.5: one `"name": value` line per covered component, in the covered order, then the
 * `"@signature-params"` line; lines joined by LF, no trailing newline.
 * `signatureParams` is the serialised inner list exactly as it appears in Signature-Input.
 */
export function buildSignatureBase(message: HttpMessage, components: readonly string[], signatureParams: string): string {
  let base = '';
  // @path and @query come from one split of the target.
  let target: { path: string; query: string } | undefined;
  for (let i = 0; i < components.length; i++) {
    const name = components[i];
    const value =
      name === '@path'
        ? (target ??= splitTarget(message.target)).path
        : name === '@query'
          ? (target ??= splitTarget(message.target)).query
          : componentValue(message, name);
    if (value === undefined) {
      throw new ServiceAuthError(
        name === 'content-digest' ? 'digest_missing' : 'signature_invalid',
        `Covered component "${name}" is not present in the request`,
      );
    }
    if (hasLineBreak(value)) {
      throw new ServiceAuthError('signature_malformed', `Covered component "${name}" contains a line break`);
    }
    base += `"${name}": ${value}\n`;
  }
  return `${base}"@signature-params": ${signatureParams}`;
}
