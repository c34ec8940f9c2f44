/**
 * The refusal a check ends with, for unit specs: each helper fails the test when the check accepts,
 * and passes on any error that is not the kind expected, so that neither can look like a refusal.
 */
import { ServiceAuthError } from '../src/errors/service-auth.error.js';

/** What `promise` rejected with; the test fails if it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  let value: unknown;
  try {
    value = await promise;
  } catch (error) {
    return error;
  }
  throw new Error(`expected a refusal, got ${describe(value)}`);
}

/** The ServiceAuthError `check` throws; the test fails if it returns or throws anything else. */
export function refusalOf(check: () => unknown): ServiceAuthError {
  let value: unknown;
  try {
    value = check();
  } catch (error) {
    return asServiceAuthError(error);
  }
  throw new Error(`expected a refusal, got ${describe(value)}`);
}

/** The ServiceAuthError `promise` rejects with; the test fails if it resolves or rejects otherwise. */
export async function rejectedRefusalOf(promise: Promise<unknown>): Promise<ServiceAuthError> {
  return asServiceAuthError(await rejectionOf(promise));
}

/** The reason code of the refusal of `check` (see refusalOf). */
export function reasonOf(check: () => unknown): string {
  return refusalOf(check).reason;
}

/** The reason code `promise` rejects with (see rejectedRefusalOf). */
export async function rejectedReasonOf(promise: Promise<unknown>): Promise<string> {
  return (await rejectedRefusalOf(promise)).reason;
}

function asServiceAuthError(error: unknown): ServiceAuthError {
  if (error instanceof ServiceAuthError) return error;
  throw error;
}

function describe(value: unknown): string {
  try {
    return value === undefined ? 'undefined' : JSON.stringify(value);
  } catch {
    return String(value);
  }
}
