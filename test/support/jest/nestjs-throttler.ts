/**
 * `@nestjs/throttler` as the Jest tests see it (moduleNameMapper in jest.config.js).
 *
 * @nestjs/throttler 6 is CommonJS and `require()`s @nestjs/common and @nestjs/core, which are
 * ESM-only in Nest 12. Node >= 20.19 handles that natively (require(esm)); Jest's CommonJS runtime
 * does not before Node 24.9. So: import the two ESM packages here (the same instances the test
 * uses), expose them to the package's rewritten `require` calls (require-esm-bridge.cjs), then load
 * the real package and re-export it. Test infrastructure only; production imports the package itself.
 */
import * as common from '@nestjs/common';
import * as core from '@nestjs/core';

const bridged: Record<string, unknown> = { '@nestjs/common': common, '@nestjs/core': core };
(globalThis as Record<symbol, unknown>)[Symbol.for('jest.requireEsmBridge')] = (id: string) => {
  const module = bridged[id];
  if (!module) throw new Error(`require-esm-bridge: ${id} is not bridged`);
  return module;
};

type Throttler = typeof import('@nestjs/throttler');
const loaded = (await import('../../../node_modules/@nestjs/throttler/dist/index.js')) as unknown as Throttler & { default?: Throttler };
const throttler: Throttler = loaded.default ?? loaded;

export default throttler;
// Explicit types keep declaration emit happy (some option types are not exported by the package).
export const DEFAULT_IPV6_SUBNET_PREFIX: Throttler['DEFAULT_IPV6_SUBNET_PREFIX'] = throttler.DEFAULT_IPV6_SUBNET_PREFIX;
export const DEFAULT_SWEEP_INTERVAL: Throttler['DEFAULT_SWEEP_INTERVAL'] = throttler.DEFAULT_SWEEP_INTERVAL;
export const InjectThrottlerOptions: Throttler['InjectThrottlerOptions'] = throttler.InjectThrottlerOptions;
export const InjectThrottlerStorage: Throttler['InjectThrottlerStorage'] = throttler.InjectThrottlerStorage;
export const SkipThrottle: Throttler['SkipThrottle'] = throttler.SkipThrottle;
export const Throttle: Throttler['Throttle'] = throttler.Throttle;
export const ThrottlerException: Throttler['ThrottlerException'] = throttler.ThrottlerException;
export const ThrottlerGuard: Throttler['ThrottlerGuard'] = throttler.ThrottlerGuard;
export const ThrottlerModule: Throttler['ThrottlerModule'] = throttler.ThrottlerModule;
export const ThrottlerStorage: Throttler['ThrottlerStorage'] = throttler.ThrottlerStorage;
export const ThrottlerStorageService: Throttler['ThrottlerStorageService'] = throttler.ThrottlerStorageService;
export const days: Throttler['days'] = throttler.days;
export const getOptionsToken: Throttler['getOptionsToken'] = throttler.getOptionsToken;
export const getStorageToken: Throttler['getStorageToken'] = throttler.getStorageToken;
export const hours: Throttler['hours'] = throttler.hours;
export const minutes: Throttler['minutes'] = throttler.minutes;
export const normalizeIp: Throttler['normalizeIp'] = throttler.normalizeIp;
export const seconds: Throttler['seconds'] = throttler.seconds;
export const throttlerMessage: Throttler['throttlerMessage'] = throttler.throttlerMessage;
export const weeks: Throttler['weeks'] = throttler.weeks;
