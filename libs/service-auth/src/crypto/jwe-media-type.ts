/** RFC 7516 §9.2.1: the media type of a compact-serialised JWE. */
export const JWE_MEDIA_TYPE = 'application/jose';

export function isJweMediaType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const semicolon = contentType.indexOf(';');
  return (semicolon < 0 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase() === JWE_MEDIA_TYPE;
}

export function acceptsJwe(accept: string | undefined): boolean {
  return accept !== undefined && accept.toLowerCase().includes(JWE_MEDIA_TYPE);
}
