/**
 * The package's public surface, read from its entry files: the root entry stays small, and every
 * exported name of every entry is documented in the API reference (docs/api.md), in the section for that entry.
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';

const ENTRIES: Record<string, string> = {
  'nest-service-auth': 'index.ts',
  'nest-service-auth/client': 'client.ts',
  'nest-service-auth/core': 'core.ts',
  'nest-service-auth/redis': 'redis.ts',
  'nest-service-auth/throttler': 'throttler.ts',
  'nest-service-auth/testing': 'testing.ts',
  'nest-service-auth/swagger': 'swagger.ts',
  'nest-service-auth/microservices': 'microservices.ts',
};

/** The names an entry file exports (values and types), from its `export { … } from` lines. */
function exportedNames(file: string): string[] {
  const source = readFileSync(new URL(`./${file}`, import.meta.url), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
  const names: string[] = [];
  for (const [, list] of source.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)) {
    for (const item of list.split(',')) {
      const name = item
        .trim()
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/)
        .pop();
      if (name) names.push(name);
    }
  }
  return names.sort();
}

/** The API reference's section of one entry: from its `### \`entry\`` heading to the next heading. */
function apiSection(reference: string, entry: string): string {
  const heading = `### \`${entry}\`\n`;
  const start = reference.indexOf(heading);
  if (start < 0) return '';
  const rest = reference.slice(start + heading.length);
  const end = rest.search(/^#{2,3} /m);
  return end < 0 ? rest : rest.slice(0, end);
}

describe('public API', () => {
  const reference = readFileSync(new URL('../docs/api.md', import.meta.url), 'utf8');

  it('the root entry exports the module, guard, decorators, option types and the event-refusal check, nothing else', () => {
    expect(exportedNames(ENTRIES['nest-service-auth'])).toEqual(
      [
        'Caller',
        'EncryptedBody',
        'EncryptionPolicy',
        'FileKeyProvider',
        'GuardInstallation',
        'IoredisClient',
        'KeyMaterial',
        'KeyProvider',
        'LoggingOptions',
        'METER_NAME',
        'HttpRoutingConfig',
        'PublicRoute',
        'ReasonCode',
        'RefusalEvent',
        'ReplayOptions',
        'ReplayRedisOptions',
        'ReplayStoreHealthIndicator',
        'ReplayStoreHealthResult',
        'ServiceAuthException',
        'ServiceAuthGuard',
        'ServiceAuthKeys',
        'ServiceAuthModule',
        'ServiceAuthModuleOptions',
        'ServiceAuthSetupOptions',
        'TrustedCaller',
        'VerificationEvent',
        'VerificationMetricsOption',
        'VerificationObserver',
        'VerificationOutcome',
        'VerifiedCaller',
        'isMessageEventRefusal',
      ].sort(),
    );
  });

  it.each(Object.entries(ENTRIES))('every name %s exports is documented in docs/api.md', (entry, file) => {
    const section = apiSection(reference, entry);
    const undocumented = exportedNames(file).filter((name) => !new RegExp(`^\\| \`${name}[\`(]`, 'm').test(section));
    expect({ entry, undocumented }).toEqual({ entry, undocumented: [] });
  });
});
