import { KeyConfigurationError } from '../errors/key-configuration.error.js';
import { ID_PATTERN } from '../keys/key-ring.js';
import type { SignedHttpModuleOptions } from './signed-http-options.js';

function refuse(message: string): never {
  throw new KeyConfigurationError(`SignedHttpModule: ${message}`);
}

function positiveInteger(value: unknown, setting: string): void {
  if (value !== undefined && (typeof value !== 'number' || !Number.isInteger(value) || value <= 0)) {
    refuse(`${setting} must be a positive integer (got ${JSON.stringify(value)})`);
  }
}

function nonNegativeInteger(value: unknown, setting: string): void {
  if (value !== undefined && (typeof value !== 'number' || !Number.isInteger(value) || value < 0)) {
    refuse(`${setting} must be a non-negative integer (got ${JSON.stringify(value)})`);
  }
}

function objectOrFalse(value: unknown, setting: string): value is Record<string, unknown> {
  if (value === undefined || value === false) return false;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    refuse(`${setting} must be an object or false (got ${JSON.stringify(value)})`);
  }
  return true;
}

/** `true`, `false` or a list of upstream ids; a URL (or anything else) would silently match nothing. */
function upstreamSelection(value: unknown, setting: string): void {
  if (value === undefined || typeof value === 'boolean') return;
  if (Array.isArray(value) && value.every((id) => typeof id === 'string' && ID_PATTERN.test(id))) return;
  refuse(`${setting} must be true, false or a list of upstream ids (e.g. ['inventory-service']), not URLs`);
}

/** Checks everything but the keys (KeyRing checks those, naming each key's source). */
export function validateClientOptions(options: SignedHttpModuleOptions | undefined): void {
  if (!options || typeof options !== 'object') refuse('options are required');
  if (typeof options.serviceId !== 'string' || !ID_PATTERN.test(options.serviceId)) {
    refuse('serviceId is required (1-128 characters of A-Z a-z 0-9 . _ ~ -), e.g. "order-service"');
  }
  if (options.keys && options.keyProvider) refuse('set either keys or keyProvider, not both');
  upstreamSelection(options.encrypt, 'encrypt');
  upstreamSelection(options.coverAuthority, 'coverAuthority');
  upstreamSelection(options.verifyAnswers, 'verifyAnswers');
  positiveInteger(options.timeoutMs, 'timeoutMs');
  positiveInteger(options.maxResponseBytes, 'maxResponseBytes');
  positiveInteger(options.maxRequestBytes, 'maxRequestBytes');
  const retry: unknown = options.retry;
  if (objectOrFalse(retry, 'retry')) {
    positiveInteger(retry.maxAttempts, 'retry.maxAttempts');
    nonNegativeInteger(retry.baseDelayMs, 'retry.baseDelayMs');
    nonNegativeInteger(retry.maxDelayMs, 'retry.maxDelayMs');
  }
  const breaker: unknown = options.circuitBreaker;
  if (objectOrFalse(breaker, 'circuitBreaker')) {
    positiveInteger(breaker.consecutiveFailures, 'circuitBreaker.consecutiveFailures');
    positiveInteger(breaker.halfOpenAfterMs, 'circuitBreaker.halfOpenAfterMs');
  }
}
