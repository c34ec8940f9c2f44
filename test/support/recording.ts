import type { LoggerService } from '@nestjs/common';
import type { RefusalEvent, VerificationEvent, VerificationObserver } from 'nest-service-auth';

/** A Nest logger that keeps the warnings (where refusals are logged), as their text, and drops the rest. */
export class RecordingLogger implements LoggerService {
  readonly warnings: string[] = [];
  log(): void {}
  error(): void {}
  warn(message: unknown): void {
    this.warnings.push(String(message));
  }
}

/** A `metrics: { observer }` that keeps every decision: what was verified and what was refused. */
export class RecordingObserver implements VerificationObserver {
  readonly verified: VerificationEvent[] = [];
  readonly refusals: RefusalEvent[] = [];
  onVerified(event: VerificationEvent): void {
    this.verified.push(event);
  }
  onRefused(event: RefusalEvent): void {
    this.refusals.push(event);
  }
}
