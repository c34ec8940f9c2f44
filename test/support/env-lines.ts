/**
 * Reads what `nest-service-auth keygen` / `rotate` print: blocks of `NAME=value` lines (values
 * single-quoted when needed, as a POSIX shell reads them) separated by blank lines, `#` comments
 * ignored. Each block with at least one assignment becomes one object.
 */
export function parseEnvBlocks(text: string): Record<string, string>[] {
  return text
    .split(/\n\s*\n/)
    .map((block) => {
      const env: Record<string, string> = {};
      for (const line of block.split('\n')) {
        if (line.trim() === '' || line.startsWith('#')) continue;
        const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
        if (!match) throw new Error(`not an assignment: ${line}`);
        const [, name, raw] = match;
        env[name] = raw.startsWith("'") ? raw.slice(1, -1).replace(/'\\''/g, "'") : raw;
      }
      return env;
    })
    .filter((env) => Object.keys(env).length > 0);
}
