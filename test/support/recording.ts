import type { LoggerService } from '@nestjs/common';
import type { RefusalEvent, VerificationObserver } from 'nest-service-auth';

/**
 * A Nest logger that keeps the warnings (where refusals are logged) and the errors (where Nest reports
 * what a handler threw), as their text, and drops the rest.
 */
export class RecordingLogger implements LoggerService {
  readonly warnings: string[] = [];
  readonly errors: string[] = [];
  log(): void {}
  error(message: unknown, ...rest: unknown[]): void {
    this.errors.push([message, ...rest].map(String).join(' '));
  }
  warn(message: unknown): void {
    this.warnings.push(String(message));
  }
}

/** A `metrics: { observer }` that keeps every decision: what was refused, and the kind of each event in order. */
export class RecordingObserver implements VerificationObserver {
  readonly refusals: RefusalEvent[] = [];
  readonly events: Array<'verified' | 'refused' | 'failed'> = [];
  onVerified(): void {
    this.events.push('verified');
  }
  onRefused(event: RefusalEvent): void {
    this.refusals.push(event);
    this.events.push('refused');
  }
  onFailed(): void {
    this.events.push('failed');
  }
}
