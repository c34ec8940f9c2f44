/**
 * `require()` of an optional peer dependency (ioredis, @opentelemetry/api), resolved from this package's location.
 *
 * CommonJS on purpose, in both builds of the package: a lazy, synchronous load needs `require`, which
 * an ES module only gets from `createRequire(import.meta.url)`, and `import.meta` cannot appear in the
 * CommonJS build. A `.cts` file compiles to `.cjs` in either build, with a `require` of its own.
 */
export function requireOptionalPeer(id: string): unknown {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a synchronous, lazy load is this file's whole purpose (above)
  return require(id);
}
