// Nest 12 ships ESM only, so tests run in Jest's native ESM mode (NODE_OPTIONS=--experimental-vm-modules);
// SWC compiles TypeScript to ESM with the legacy decorators and metadata Nest relies on.
const swc = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
    target: 'es2022',
    keepClassNames: true,
  },
  module: { type: 'es6' },
  sourceMaps: 'inline',
};

export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/libs', '<rootDir>/apps', '<rootDir>/test'],
  testMatch: ['**/*.spec.ts', '**/*.e2e-spec.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', swc],
    // A .cts source is CommonJS in every build (libs/service-auth/src/redis/require-optional-peer.cts).
    '^.+\\.cts$': ['@swc/jest', { ...swc, module: { type: 'commonjs' } }],
    // @nestjs/throttler is CommonJS requiring ESM-only Nest 12: see test/support/jest/nestjs-throttler.ts.
    '/node_modules/@nestjs/throttler/.+\\.js$': '<rootDir>/test/support/jest/require-esm-bridge.cjs',
  },
  transformIgnorePatterns: ['/node_modules/(?!@nestjs/throttler/)', '\\.pnp\\.[^\\/]+$'],
  moduleNameMapper: {
    '^nest-service-auth$': '<rootDir>/libs/service-auth/src/index.ts',
    '^nest-service-auth/(core|client|redis|throttler)$': '<rootDir>/libs/service-auth/src/$1.ts',
    '^@nestjs/throttler$': '<rootDir>/test/support/jest/nestjs-throttler.ts',
    // The library's one CommonJS source (its .cjs output is what it imports). Only this file: a general
    // `.cjs` mapping would also send packages' own `require('./x.cjs')` to a sibling `x.js`.
    '^(\\.{1,2}/(?:.*/)?)require-optional-peer\\.cjs$': '$1require-optional-peer.cts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testTimeout: 30000,
};
