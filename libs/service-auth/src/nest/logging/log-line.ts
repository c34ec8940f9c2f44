import { inspect } from 'node:util';

/** Values printed as they are in the text form; anything else is JSON-quoted (so never a line break). */
const BARE_VALUE = /^[\w.:/@%+~,-]+$/;

/**
 * A structured log entry that every Nest logger prints on ONE line.
 *
 * Nest's ConsoleLogger prints a plain object with util.inspect, which breaks it across lines (one
 * property per line without colours; past 80 columns with them), so one refusal became several
 * lines that log shippers split into unrelated records. A LogLine carries the same fields, as own
 * enumerable properties, and tells each kind of logger how to print them:
 * - JSON loggers (`new ConsoleLogger({ json: true })`, pino, winston) serialise it through
 *   `toJSON()`: the fields, as an object, inside the one JSON record;
 * - text loggers (ConsoleLogger's default, or anything that calls util.inspect or String()) get
 *   `event key=value key=value`, values JSON-quoted when they hold anything but plain characters,
 *   so no value (a Redis error, a path) can break the line or forge another field.
 * Fields whose value is undefined are left out of both.
 */
export class LogLine {
  [field: string]: unknown;

  constructor(fields: Record<string, unknown>) {
    for (const [key, value] of Object.entries(fields)) {
      if (value !== undefined) this[key] = value;
    }
  }

  toJSON(): Record<string, unknown> {
    return { ...this };
  }

  toString(): string {
    const parts: string[] = [];
    for (const [key, value] of Object.entries(this)) {
      if (key === 'event' && parts.length === 0 && typeof value === 'string') parts.push(textValue(value));
      else parts.push(`${key}=${textValue(value)}`);
    }
    return parts.join(' ');
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

function textValue(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (typeof value === 'string') return BARE_VALUE.test(value) ? value : JSON.stringify(value);
  try {
    // Objects and arrays: compact JSON, which holds no line break either.
    return JSON.stringify(value) ?? JSON.stringify(String(value));
  } catch {
    return JSON.stringify(String(value));
  }
}
