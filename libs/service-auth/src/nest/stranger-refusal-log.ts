import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { ReasonCode } from '../protocol/reason-codes.js';
import { LogLine } from './log-line.js';
import type { ResolvedServiceAuthOptions } from './resolved-options.js';
import { RESOLVED_OPTIONS } from './service-auth.constants.js';

/** The refusals of requests that name no known caller: what a flood of garbage is made of. */
const STRANGER_REASONS: ReadonlySet<ReasonCode> = new Set<ReasonCode>(['api_key_missing', 'api_key_invalid']);

export function isStrangerRefusal(reason: ReasonCode): boolean {
  return STRANGER_REASONS.has(reason);
}

/** One second of one reason's refusals. */
interface Window {
  second: number;
  logged: number;
  suppressed: number;
  flush?: ReturnType<typeof setTimeout>;
}

/**
 * Bounds the log lines of strangers' refusals. Logged one line each, a flood of requests without a
 * known API key becomes a flood of log lines: writing them costs the service more than refusing the
 * requests (a synchronous write per line with Nest's ConsoleLogger), and they fill disks and log
 * pipelines that someone pays for. So, per reason, the first `logging.strangerRefusalsPerSecond`
 * refusals of each second are logged in full, and the others are counted: at the end of that second
 * one line says how many were left out (`service_auth_rejected_suppressed reason=… suppressed=N`),
 * the same way the kernel reports "N callbacks suppressed". Nothing is lost to anyone who counts:
 * metrics still see every refusal, and every refusal is either a line or part of a count.
 * Refusals of known callers (a bad signature, a replay) are always logged: they concern a configured
 * caller, and each one is worth a look.
 */
@Injectable()
export class StrangerRefusalLog implements OnApplicationShutdown {
  private readonly logger = new Logger('ServiceAuth');
  private readonly perSecond: number;
  private readonly windows = new Map<ReasonCode, Window>();

  constructor(@Inject(RESOLVED_OPTIONS) options: ResolvedServiceAuthOptions) {
    this.perSecond = options.logging.strangerRefusalsPerSecond;
  }

  /** Whether this refusal gets its own log line; when not, it is counted for the summary line. */
  admit(reason: ReasonCode): boolean {
    if (this.perSecond === Infinity) return true;
    const second = Math.floor(Date.now() / 1000);
    let window = this.windows.get(reason);
    if (window === undefined) this.windows.set(reason, (window = { second, logged: 0, suppressed: 0 }));
    else if (window.second !== second) {
      this.flush(reason, window);
      window.second = second;
      window.logged = 0;
    }
    if (window.logged < this.perSecond) {
      window.logged++;
      return true;
    }
    window.suppressed++;
    // Said when the second ends, even if no other refusal comes to carry it; unref: a pending count
    // never keeps the process alive.
    if (window.flush === undefined) {
      const w = window;
      w.flush = setTimeout(() => this.flush(reason, w), Math.max(1, (second + 1) * 1000 - Date.now()));
      w.flush.unref?.();
    }
    return false;
  }

  /** Counts still pending are said before the application stops. */
  onApplicationShutdown(): void {
    for (const [reason, window] of this.windows) this.flush(reason, window);
  }

  private flush(reason: ReasonCode, window: Window): void {
    if (window.flush !== undefined) clearTimeout(window.flush);
    window.flush = undefined;
    if (window.suppressed === 0) return;
    const suppressed = window.suppressed;
    window.suppressed = 0;
    this.logger.warn(
      new LogLine({ event: 'service_auth_rejected_suppressed', reason, suppressed, perSecond: this.perSecond, second: window.second }),
    );
  }
}
