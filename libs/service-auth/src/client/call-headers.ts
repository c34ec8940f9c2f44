import type { AxiosRequestConfig } from 'axios';

/**
 * A call's headers as lower-case names and string values, as they are signed and sent. Both forms
 * axios accepts, a plain object and an AxiosHeaders, hold each header as an own property. A header
 * set to undefined, null or false is left out (axios sends none); a list is one comma-separated
 * value, as a verifier combines repeated header lines.
 */
export function callHeaders(headers: AxiosRequestConfig['headers']): Record<string, string> {
  const plain: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    plain[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return plain;
}
