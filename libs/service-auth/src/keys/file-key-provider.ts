import { readFile } from 'node:fs/promises';
import { KeyConfigurationError } from '../errors/key-configuration.error.js';
import { EnvKeyProvider } from './env-key-provider.js';
import type { KeyMaterial } from './key-material.js';
import type { KeyProvider } from './key-provider.interface.js';

export interface FileKeyProviderOptions {
  /** The file to read on every load: JSON key material, or `NAME=value` lines (a .env file, keygen's output). */
  path: string;
  /** For `NAME=value` files: the variable name prefix, `SERVICE_AUTH` by default. */
  prefix?: string;
}

/**
 * Reads keys from a file, again on every load: the source to rotate keys without a restart. Replace
 * the file (write a new one, then rename it over the old: a reader never sees half a file), then call
 * `ServiceAuthKeys.reload()` (or `SignedHttpService.keys.reload()`): the new keys are checked in full
 * before they replace the running ones, and a bad file leaves the running keys in place.
 *
 * Two formats, told apart by the first character that is not white space:
 * - `{`: JSON of KeyMaterial, `{ "callers": [{ "id", "keys": [{ "id", "apiKey", "secret" }] }], "upstreams": [...] }`;
 * - anything else: `NAME=value` lines with the variable names EnvKeyProvider reads
 *   (`SERVICE_AUTH_CALLERS`, `SERVICE_AUTH_CALLER_<ID>_KEYS`, …), as `nest-service-auth keygen` prints
 *   them and a .env file holds them: `#` comments, blank lines, `export ` and single or double quotes
 *   around a value allowed.
 *
 * No error ever quotes the file's content: it holds secrets.
 */
export class FileKeyProvider implements KeyProvider {
  readonly reloadable = true;
  private readonly path: string;
  private readonly prefix: string | undefined;

  constructor(options: FileKeyProviderOptions) {
    if (typeof options?.path !== 'string' || options.path === '') throw new TypeError('FileKeyProvider needs options.path');
    this.path = options.path;
    this.prefix = options.prefix;
  }

  async load(): Promise<KeyMaterial> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new KeyConfigurationError(`FileKeyProvider: cannot read ${this.path} (${code})`);
    }
    return text.trimStart().startsWith('{') ? this.fromJson(text) : this.fromAssignments(text);
  }

  private fromJson(text: string): KeyMaterial {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      // JSON.parse's own message quotes the text around the fault, which may be a secret.
      throw new KeyConfigurationError(`FileKeyProvider: ${this.path} is not valid JSON`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new KeyConfigurationError(`FileKeyProvider: ${this.path} must hold an object { callers?, upstreams? }`);
    }
    const material = parsed as KeyMaterial;
    const sourced = <T extends object>(list: unknown, kind: string): T[] | undefined =>
      Array.isArray(list)
        ? list.map((entry: T, i) => (entry && typeof entry === 'object' ? { ...entry, source: `${this.path}: ${kind}[${i}]` } : entry))
        : (list as undefined);
    return { callers: sourced(material.callers, 'callers'), upstreams: sourced(material.upstreams, 'upstreams') };
  }

  private fromAssignments(text: string): KeyMaterial {
    const values = new Map<string, string>();
    text.split(/\r?\n/).forEach((line, i) => {
      const trimmed = line.trim();
      if (trimmed === '' || trimmed.startsWith('#')) return;
      const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(trimmed);
      // The line number only: the line itself may hold a secret.
      if (!match) throw new KeyConfigurationError(`FileKeyProvider: ${this.path}, line ${i + 1} is not NAME=value`);
      values.set(match[1], unquoted(match[2]));
    });
    return new EnvKeyProvider({ get: (name) => values.get(name), prefix: this.prefix }).load();
  }
}

/** A value as a shell or a dotenv parser reads it: 'single' (with '\'' for a quote) or "double" quotes removed. */
function unquoted(raw: string): string {
  if (raw.length >= 2 && raw.startsWith("'") && raw.endsWith("'")) return raw.slice(1, -1).replace(/'\\''/g, "'");
  if (raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"')) return raw.slice(1, -1);
  return raw;
}
