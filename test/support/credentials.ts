import { randomBytes } from 'node:crypto';

export interface TestCredential {
  id: string;
  apiKey: string;
  secret: string;
}

/** A fresh credential, generated the way the README tells users to. */
export function newCredential(id: string): TestCredential {
  return { id, apiKey: `sk_${randomBytes(32).toString('base64url')}`, secret: randomBytes(32).toString('base64url') };
}

/** The `keyId:apiKey:secret` list format of the SERVICE_AUTH_* variables. */
export function keyList(...credentials: TestCredential[]): string {
  return credentials.map((c) => `${c.id}:${c.apiKey}:${c.secret}`).join(',');
}

/**
 * The environment of a service that calls one upstream with the given keys (current key first):
 * SERVICE_AUTH_UPSTREAMS, SERVICE_AUTH_UPSTREAM_<ID>_URL and SERVICE_AUTH_UPSTREAM_<ID>_KEYS.
 */
export function upstreamEnv(upstreamId: string, url: string, ...credentials: TestCredential[]): Record<string, string> {
  const name = upstreamId.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
  return {
    SERVICE_AUTH_UPSTREAMS: upstreamId,
    [`SERVICE_AUTH_UPSTREAM_${name}_URL`]: url,
    [`SERVICE_AUTH_UPSTREAM_${name}_KEYS`]: keyList(...credentials),
  };
}

/** order-service's environment for calling inventory-service at `url`. */
export function inventoryUpstreamEnv(url: string, ...credentials: TestCredential[]): Record<string, string> {
  return upstreamEnv('inventory-service', url, ...credentials);
}
