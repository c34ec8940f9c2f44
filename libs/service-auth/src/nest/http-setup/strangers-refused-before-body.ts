import { Inject, Injectable, Optional } from '@nestjs/common';
import type { VerificationObserver } from '../../metrics/verification-observer.js';
import { checkRoutedTarget } from '../../protocol/request-target.js';
import type { RequestVerifier } from '../../protocol/request-verifier.js';
import { ServiceAuthError } from '../../errors/service-auth.error.js';
import { declaresBody } from '../adapters/raw-body.js';
import { RefusalLog } from '../logging/refusal-log.js';
import { requestMessage } from '../adapters/request-message.js';
import type { ResolvedServiceAuthOptions } from '../options/resolved-options.js';
import { REQUEST_VERIFIER, RESOLVED_OPTIONS, VERIFICATION_OBSERVER } from '../options/service-auth.constants.js';
import { ServiceAuthException } from '../verification/service-auth.exception.js';
import { ServiceAuthKeys } from '../service-auth-keys.service.js';
import { mountPointOf, nodeRequest, type ServiceAuthRequest } from '../adapters/service-auth-request.js';
import { ProtectedRouteTable } from './protected-route-table.js';
import type { RoutedPath } from './routed-path.js';

/**
 * Where strangers are refused before their body is read. Body parsers run before any guard, so
 * without this a request with no API key, or one nobody holds, would have its body received and
 * parsed (up to `maxBodyBytes`) only for the guard to refuse it on a header.
 *
 * ServiceAuthModule.setup installs it ahead of the body parsers (Express: a middleware `app.use`d
 * before them; Fastify: an `onRequest` hook). A request that announces a body, on a route that needs
 * a caller (ProtectedRouteTable), goes through the verifier's own steps that need no body, in the
 * guard's order: the request target and Content-Encoding (`verifier.precheck`), the routed URL
 * against the target, the declared size, then the API key (`verifier.identifyCaller`). The first
 * refusal is answered as a ServiceAuthException (the guard's answer), logged by the same RefusalLog
 * and counted by the same metrics observer. Everything else goes on: the guard still verifies every
 * request; this check only spares the server the bodies of requests it would refuse anyway.
 */
@Injectable()
export class StrangersRefusedBeforeBody {
  private readonly maxBodyBytes: number;
  /** Nothing to refuse without callers configured: every protected route refuses everyone anyway, in the guard. */
  readonly enabled: boolean;

  constructor(
    private readonly routes: ProtectedRouteTable,
    private readonly keys: ServiceAuthKeys,
    @Inject(REQUEST_VERIFIER) private readonly verifier: RequestVerifier,
    @Inject(RESOLVED_OPTIONS) options: ResolvedServiceAuthOptions,
    private readonly refusalLog: RefusalLog,
    @Optional() @Inject(VERIFICATION_OBSERVER) private readonly observer: VerificationObserver | null = null,
  ) {
    this.maxBodyBytes = options.maxBodyBytes;
    this.enabled = keys.inbound;
  }

  /**
   * The refusal of `req` (Express' request, or Fastify's), already logged and counted, or undefined
   * when it goes on to the body parsers and the guard. `routedPath` is the path the adapter's router
   * matches (see routed-path.ts).
   */
  refusalOf(req: ServiceAuthRequest, routedPath: RoutedPath): ServiceAuthException | undefined {
    const raw = nodeRequest(req);
    if (!declaresBody(raw)) return undefined;
    const url = raw.url ?? '/';
    const q = url.indexOf('?');
    const route = this.routes.protectedRouteFor(raw.method, routedPath(q < 0 ? url : url.slice(0, q)));
    if (route === undefined) return undefined;
    const started = this.observer ? performance.now() : 0;
    const message = requestMessage(req);
    try {
      this.verifier.precheck(message);
      checkRoutedTarget(message.target, raw.url, mountPointOf(req));
      if (Number(raw.headers['content-length'] ?? 0) > this.maxBodyBytes) {
        throw new ServiceAuthError('body_too_large', `The body exceeds ${this.maxBodyBytes} bytes`);
      }
      this.verifier.identifyCaller(message);
      return undefined;
    } catch (err) {
      if (!(err instanceof ServiceAuthError)) return undefined;
      const caller = err.reason === 'api_key_missing' || err.reason === 'api_key_invalid' ? undefined : this.claimedCaller(req);
      this.refusalLog.write(req, err, route, () => caller);
      this.report(req, route, err, caller, started);
      return new ServiceAuthException(err.reason, err.message);
    }
  }

  private report(req: ServiceAuthRequest, route: string, error: ServiceAuthError, caller: string | undefined, started: number): void {
    if (!this.observer) return;
    try {
      this.observer.onRefused({
        route,
        method: typeof req.method === 'string' ? req.method : 'UNKNOWN',
        caller,
        durationSeconds: (performance.now() - started) / 1000,
        reason: error.reason,
        status: error.status,
      });
    } catch {
      // Metrics are best effort; the decision already stands.
    }
  }

  /** The service an API key belongs to, for the log line and the metrics; never the key itself. */
  private claimedCaller(req: ServiceAuthRequest): string | undefined {
    const apiKey = nodeRequest(req).headers['x-api-key'];
    return typeof apiKey === 'string' ? this.keys.ring.findByApiKey(apiKey)?.callerId : undefined;
  }
}
