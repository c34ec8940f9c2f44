import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { ReasonCode } from '../../errors/reason-codes.js';
import { LogLine } from './log-line.js';
import { cutPath, rejectionLogEntry } from './rejection-log.js';
import type { ResolvedServiceAuthOptions } from '../options/resolved-options.js';
import { RESOLVED_OPTIONS, VERIFIED_CALLER_PROPERTY } from '../options/service-auth.constants.js';
import type { ServiceAuthRequest } from '../adapters/service-auth-request.js';

/** Refusals for the API key itself: by definition, no caller is known. */
const STRANGER_REASONS: ReadonlySet<ReasonCode> = new Set<ReasonCode>(['api_key_missing', 'api_key_invalid']);

/** What a refusal's log line says of it (a ServiceAuthError is one). */
export interface LoggedRefusal {
  readonly reason: ReasonCode;
  readonly status: number;
  readonly detail?: string;
  readonly retryAfterSeconds?: number;
}

/** One second of the refusals of one reason on one route (a stranger's), or of one claimed caller. */
interface Window {
  readonly reason: ReasonCode;
  readonly method: string | undefined;
  readonly route: string | undefined;
  readonly caller: string | undefined;
  second: number;
  logged: number;
  suppressed: number;
  flush?: ReturnType<typeof setTimeout>;
}

/** What a window counts: a reason on a route (a stranger's refusals), or a reason of a claimed caller. */
type WindowSubject = Pick<Window, 'reason' | 'method' | 'route' | 'caller'>;

/**
 * Counted apart up to this many (reason, method, route) and (reason, caller) windows; beyond, the rest
 * share one count per reason. Routes and callers are the application's, and Node's parser knows a
 * fixed list of methods, so this is only a bound against the unforeseen.
 */
const MAX_WINDOWS = 1024;
const SHARED = 'other';

/**
 * Where ServiceAuthGuard and the early API-key check log their refusals: one line each, at `warn`
 * (`error` for a 5xx), context `ServiceAuth` (see rejection-log.ts for the line).
 *
 * Except that it bounds the lines of refusals of requests that were not verified, whatever the check
 * that refused them. Logged one line each, a flood of unverified requests becomes a flood of log
 * lines: writing them costs the service more than refusing the
 * requests (a synchronous write per line with Nest's ConsoleLogger), and they fill disks and log
 * pipelines that someone pays for. So, per reason and route (method and declared pattern), the first
 * `logging.strangerRefusalsPerSecond` refusals of each second are logged in full, and the others are
 * counted: at the end of that second one line says how many were left out
 * (`service_auth_rejected_suppressed reason=… method=… route=… suppressed=N`), the way the kernel
 * reports "N callbacks suppressed". Counting per route keeps a flood on one route from hiding the
 * refusals on another (a key-guessing probe, a caller still sending a retired key). Nothing is lost
 * to anyone who counts: metrics still see every refusal, and every refusal is either a line or part
 * of a count.
 *
 * A request whose API key belongs to a caller, but which was not verified (a bad or missing signature,
 * a replay), only claims that caller: anyone who has seen the key on the wire can send it. Its lines
 * are bounded the same way, per claimed caller and reason (callers are configured and reasons fixed,
 * so the counts stay few), and its summary line names the caller
 * (`service_auth_rejected_suppressed reason=… caller=… suppressed=N`): a burst from one caller is
 * seen, without one line per request. Refusals of a verified caller (a resolver's trust list, a rate
 * limit) are always logged: only a holder of the caller's secret can cause them.
 */
@Injectable()
export class RefusalLog implements OnApplicationShutdown {
  private readonly logger = new Logger('ServiceAuth');
  private readonly perSecond: number;
  private readonly windows = new Map<string, Window>();

  constructor(@Inject(RESOLVED_OPTIONS) options: ResolvedServiceAuthOptions) {
    this.perSecond = options.logging.strangerRefusalsPerSecond;
  }

  /**
   * Logs `refusal` of `req`, unless it is a stranger's beyond this second's lines (then it is counted).
   * `route` is the declared pattern the request matched (never its path: the count is per route);
   * `claimedCaller` names the owner of the API key presented (asked only for a request not verified).
   */
  write(req: ServiceAuthRequest, refusal: LoggedRefusal, route: string | undefined, claimedCaller?: () => string | undefined): void {
    // Before a caller is verified, whatever the check that refused (request target, Content-Encoding,
    // declared size, API key, signature, nonce), the refusal's lines are bounded: per route for a
    // stranger, per caller for one that only claims a caller through its API key.
    const verified = req[VERIFIED_CALLER_PROPERTY]?.id;
    const caller = STRANGER_REASONS.has(refusal.reason) ? undefined : (verified ?? claimedCaller?.());
    if (verified === undefined) {
      const admitted = caller === undefined ? this.admit(refusal.reason, req.method, route) : this.admitClaimed(refusal.reason, caller);
      if (!admitted) return;
    }
    const entry = rejectionLogEntry(req, refusal.reason, refusal.status, caller, {
      ...(refusal.detail ? { detail: refusal.detail } : {}),
      ...(refusal.retryAfterSeconds !== undefined ? { retryAfterSeconds: refusal.retryAfterSeconds } : {}),
    });
    if (refusal.status >= 500) this.logger.error(entry);
    else this.logger.warn(entry);
  }

  /**
   * Logs the refusal of a microservice message: as `write`, with the message's kind (`SEND`, `EMIT`)
   * for the method and its handler's declared pattern (never the payload).
   */
  writeMessage(refusal: LoggedRefusal, kind: string, pattern: string, claimedCaller?: () => string | undefined): void {
    const caller = STRANGER_REASONS.has(refusal.reason) ? undefined : claimedCaller?.();
    if (caller === undefined && !this.admit(refusal.reason, kind, pattern)) return;
    const entry = new LogLine({
      event: 'service_auth_rejected',
      reason: refusal.reason,
      status: refusal.status,
      caller,
      method: kind,
      pattern: cutPath(pattern),
      ...(refusal.detail ? { detail: refusal.detail } : {}),
    });
    if (refusal.status >= 500) this.logger.error(entry);
    else this.logger.warn(entry);
  }

  /** Whether a stranger's refusal for `reason` on this route gets its own line now; when not, it is counted for the summary line. */
  admit(reason: ReasonCode, method: string | undefined, route: string | undefined): boolean {
    return this.admitIn(`${reason} ${method} ${route}`, { reason, method, route, caller: undefined });
  }

  /** As admit, for the refusal of a request that claims `caller` by its API key but was not verified. */
  admitClaimed(reason: ReasonCode, caller: string): boolean {
    return this.admitIn(`${reason} caller ${caller}`, { reason, method: undefined, route: undefined, caller });
  }

  private admitIn(key: string, subject: WindowSubject): boolean {
    if (this.perSecond === Infinity) return true;
    const second = Math.floor(Date.now() / 1000);
    const window = this.windowOf(key, subject, second);
    if (window.second !== second) {
      this.flush(window);
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
    if (window.flush === undefined) this.flushWhenOver(window);
    return false;
  }

  /**
   * Says the window's count once its second is over. A timer may fire a little before the wall clock
   * says so (it runs on the event loop's cached monotonic time): then it waits for the rest, so that
   * one second never gets two count lines.
   */
  private flushWhenOver(window: Window): void {
    const remaining = (window.second + 1) * 1000 - Date.now();
    if (remaining <= 0) return this.flush(window);
    window.flush = setTimeout(() => this.flushWhenOver(window), remaining);
    window.flush.unref?.();
  }

  /** Counts still pending are said before the application stops. */
  onApplicationShutdown(): void {
    for (const window of this.windows.values()) this.flush(window);
  }

  private windowOf(key: string, subject: WindowSubject, second: number): Window {
    let window = this.windows.get(key);
    if (window !== undefined) return window;
    if (this.windows.size >= MAX_WINDOWS) {
      key = `${subject.reason} ${SHARED}`;
      window = this.windows.get(key);
      if (window !== undefined) return window;
      subject = { reason: subject.reason, method: SHARED, route: SHARED, caller: undefined };
    }
    window = { ...subject, second, logged: 0, suppressed: 0 };
    this.windows.set(key, window);
    return window;
  }

  private flush(window: Window): void {
    if (window.flush !== undefined) clearTimeout(window.flush);
    window.flush = undefined;
    if (window.suppressed === 0) return;
    const suppressed = window.suppressed;
    window.suppressed = 0;
    try {
      this.logger.warn(
        new LogLine({
          event: 'service_auth_rejected_suppressed',
          reason: window.reason,
          method: window.method,
          route: window.route,
          caller: window.caller,
          suppressed,
          perSecond: this.perSecond,
          second: window.second,
        }),
      );
    } catch {
      // From a timer, a logger that throws would end the process: the count is best effort, as metrics are.
    }
  }
}
