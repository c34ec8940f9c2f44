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
