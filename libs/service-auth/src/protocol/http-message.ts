/**
 * The parts of an HTTP request that a signature can cover, independent of any framework.
 * `target` is the request target exactly as it arrived on the wire (path plus `?query`), never a
 * normalised or re-encoded form: the signature is over what the sender sent.
 */
export interface HttpMessage {
  readonly method: string;
  readonly target: string;
  /** host[:port] as sent in the Host header (or :authority); needed only when `@authority` is covered. */
  readonly authority?: string;
  /** `http` or `https`; needed only when `@scheme` or `@target-uri` is covered. */
  readonly scheme?: string;
  /** A field value by lowercase name, repeated fields already joined with `, `; undefined when absent. */
  header(name: string): string | undefined;
}

/**
 * Splits a request target into the `@path` and `@query` values of RFC 9421 §2.2.6–2.2.7. It reads
 * any target form, but a verifier accepts only origin-form targets without a fragment
 * (checkRequestTarget), for which `@path` + `@query` is the whole target, byte for byte.
 */
export function splitTarget(target: string): { path: string; query: string } {
  let rest = target;
  if (!rest.startsWith('/')) {
    // absolute-form (a proxy request): drop scheme and authority, keep the rest as sent
    const schemeEnd = rest.indexOf('://');
    if (schemeEnd >= 0) {
      const pathStart = rest.indexOf('/', schemeEnd + 3);
      const queryStart = rest.indexOf('?', schemeEnd + 3);
      const cut = pathStart >= 0 && (queryStart < 0 || pathStart < queryStart) ? pathStart : queryStart;
      rest = cut < 0 ? '/' : rest[cut] === '?' ? '/' + rest.slice(cut) : rest.slice(cut);
    }
  }
  const hashIdx = rest.indexOf('#');
  if (hashIdx >= 0) rest = rest.slice(0, hashIdx);
  const q = rest.indexOf('?');
  if (q < 0) return { path: rest === '' ? '/' : rest, query: '?' };
  return { path: rest.slice(0, q) || '/', query: rest.slice(q) };
}

/** Builds an HttpMessage from a plain header record (client side, and tests). */
export function httpMessage(init: {
  method: string;
  target: string;
  authority?: string;
  scheme?: string;
  headers: Record<string, string | string[] | number | undefined>;
}): HttpMessage {
  const lower = new Map<string, string>();
  for (const [name, value] of Object.entries(init.headers)) {
    if (value === undefined) continue;
    const key = name.toLowerCase();
    // RFC 9421 §2.1: each field line is trimmed before the lines are joined with ", ".
    const joined = Array.isArray(value) ? value.map((v) => v.trim()).join(', ') : String(value).trim();
    const prev = lower.get(key);
    lower.set(key, prev === undefined ? joined : `${prev}, ${joined}`);
  }
  return {
    method: init.method,
    target: init.target,
    authority: init.authority ?? lower.get('host'),
    scheme: init.scheme,
    header: (name) => lower.get(name),
  };
}
