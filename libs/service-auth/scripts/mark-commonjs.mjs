// dist/cjs holds the CommonJS build of a "type": "module" package: this package.json in it makes Node
// and TypeScript read its .js and .d.ts files as CommonJS (tsc cannot emit .cjs/.d.cts from .ts files).
import { writeFileSync } from 'node:fs';

writeFileSync(new URL('../dist/cjs/package.json', import.meta.url), `${JSON.stringify({ type: 'commonjs' }, null, 2)}\n`);
