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

const TEST_TIMEOUT_MS = 30000;

const shared = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', swc],
    // A .cts source is CommonJS in every build (libs/service-auth/src/peers/require-optional-peer.cts).
    '^.+\\.cts$': ['@swc/jest', { ...swc, module: { type: 'commonjs' } }],
    // @nestjs/throttler is CommonJS requiring ESM-only Nest 12: see test/support/jest/nestjs-throttler.ts.
    '/node_modules/@nestjs/throttler/.+\\.js$': '<rootDir>/test/support/jest/require-esm-bridge.cjs',
  },
  transformIgnorePatterns: ['/node_modules/(?!@nestjs/throttler/)', '\\.pnp\\.[^\\/]+$'],
  moduleNameMapper: {
    '^nest-service-auth$': '<rootDir>/libs/service-auth/src/index.ts',
    '^nest-service-auth/(core|client|redis|throttler|testing|swagger|microservices)$': '<rootDir>/libs/service-auth/src/$1.ts',
    '^service-app$': '<rootDir>/libs/service-app/src/create-service-app.ts',
    '^@nestjs/throttler$': '<rootDir>/test/support/jest/nestjs-throttler.ts',
    // The library's one CommonJS source (its .cjs output is what it imports). Only this file: a general
    // `.cjs` mapping would also send packages' own `require('./x.cjs')` to a sibling `x.js`.
    '^(\\.{1,2}/(?:.*/)?)require-optional-peer\\.cjs$': '$1require-optional-peer.cts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testTimeout: TEST_TIMEOUT_MS,
};

/**
 * Two projects, run together by `npm test` on every core (both are safe in parallel: servers listen on
 * free ports, each file starts its own redis-server / PostgreSQL and keeps its data apart):
 *   unit  libs/** and apps/** `*.spec.ts`: in-process only, no server process (the setup file makes the
 *         test server helpers refuse to start one), so they are fast and need nothing installed;
 *   e2e   test/*.e2e-spec.ts (real apps over real HTTP) and `*.integration.spec.ts` anywhere (specs that
 *         start a real redis-server or PostgreSQL: scripts/provision-test-servers.sh installs them).
 * `npm run test:unit` / `npm run test:e2e` run one project.
 */
export default {
  // Jest's default is one worker fewer than the cores, i.e. a single one on a 2-core machine.
  maxWorkers: '100%',
  testTimeout: TEST_TIMEOUT_MS,
  projects: [
    {
      ...shared,
      displayName: 'unit',
      roots: ['<rootDir>/libs', '<rootDir>/apps'],
      testMatch: ['**/*.spec.ts'],
      testPathIgnorePatterns: ['/node_modules/', '\\.integration\\.spec\\.ts$'],
      setupFiles: ['<rootDir>/test/support/jest/unit-tests-start-no-process.ts'],
    },
    {
      ...shared,
      displayName: 'e2e',
      roots: ['<rootDir>/libs', '<rootDir>/apps', '<rootDir>/test'],
      testMatch: ['**/*.integration.spec.ts', '**/*.e2e-spec.ts'],
    },
  ],
};
