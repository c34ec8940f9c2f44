// Jest transformer for CommonJS packages that `require()` ESM-only Nest 12 packages (@nestjs/throttler 6).
//
// Node >= 20.19 loads such a require natively (require(esm)), but Jest's own CommonJS runtime cannot
// before Node 24.9 ("Must use import to load ES Module"). This rewrites `require("@nestjs/common")`
// and `require("@nestjs/core")` into a lookup of the ESM modules that nestjs-throttler.ts (mapped as
// `@nestjs/throttler` in jest.config.js) imported first, so the package shares the test's own
// instances of @nestjs/common and @nestjs/core, as it does outside Jest. Test infrastructure only.
const { createHash } = require('node:crypto');

const VERSION = '1';
const BRIDGED = /require\((["'])(@nestjs\/(?:common|core))\1\)/g;

module.exports = {
  process(sourceText) {
    return { code: sourceText.replace(BRIDGED, (_, _q, id) => `globalThis[Symbol.for('jest.requireEsmBridge')](${JSON.stringify(id)})`) };
  },
  getCacheKey(sourceText, sourcePath) {
    return createHash('sha256').update(VERSION).update('\0').update(sourcePath).update('\0').update(sourceText).digest('hex');
  },
};
