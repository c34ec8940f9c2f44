import type { LoggerService } from '@nestjs/common';
import type { RefusalEvent, VerificationObserver } from 'nest-service-auth';

/** A Nest logger that keeps the warnings (where refusals are logged), as their text, and drops the rest. */
export class RecordingLogger implements LoggerService {
  readonly warnings: string[] = [];
  log(): void {}
  error(): void {}
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
