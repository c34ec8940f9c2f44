// ESLint for the whole repository: typescript-eslint's type-checked rules on every TypeScript file
// (library, apps, tests, bench), the recommended rules on plain JavaScript, and Prettier for layout
// (eslint-config-prettier turns off every rule that would disagree with it).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'coverage/**', '**/*.d.ts'] },
  js.configs.recommended,
  {
    files: ['**/*.ts', '**/*.cts'],
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Unused parameters are part of signatures Nest and the tests call; a leading _ says so.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    files: ['libs/service-auth/src/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      // The library's own code is typed all the way through.
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    // The bench compiles against the built package (bench/tsconfig.json has no `paths`), so that it
    // measures what ships; linted like every other TypeScript file, against the sources, it needs
    // the root project, which maps the package's entries to them (as `npm run typecheck` does).
    files: ['bench/src/**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: false, project: ['./tsconfig.json'], tsconfigRootDir: import.meta.dirname },
    },
  },
  {
    // Implementations of asynchronous contracts that happen to do their work synchronously: the
    // in-memory stores (NonceStore, StockStore), ThrottlerGuard's throwThrottlingException override,
    // and the bench's stand-ins for the async handlers and guard of the real services. `async` is what
    // keeps the contract (a throw becomes a rejection, the return value a promise), so there is no
    // await to show for it. Elsewhere the rule stays on.
    files: [
      'libs/service-auth/src/replay/memory-nonce-store.ts',
      'libs/service-auth/src/nest/throttling/caller-throttler.guard.ts',
      'apps/inventory-service/src/stock/memory-stock-store.ts',
      'bench/src/bench-app.ts',
    ],
    rules: { '@typescript-eslint/require-await': 'off' },
  },
  {
    // Every test: the unit specs beside the code, test/ (end-to-end specs and their support).
    files: ['**/*.spec.ts', 'test/**/*.ts'],
    rules: {
      // Tests hand methods around without calling them: `Controller.prototype.read` as the route
      // handler of a fake ExecutionContext (what getHandler() returns: a key to decorator metadata),
      // and `expect(store.claim).toHaveBeenCalledWith(...)` to jest. The rule cannot tell that from an
      // unbound call.
      '@typescript-eslint/unbound-method': 'off',
      // Test doubles of asynchronous contracts (stores, signers, stdin readers) answer at once; `async`
      // is what makes them honour the contract (a throw becomes a rejection).
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['**/*.mjs', '**/*.cjs', '**/*.js'],
    languageOptions: { globals: { ...globals.node } },
  },
  prettier,
);
