/**
 * Thrown (emitted, by SignedHttpService's Observables) for a call to a URL that belongs to no
 * configured upstream. Nothing was sent: credentials are only ever presented to the service they
 * were issued for, never to whatever URL a request happens to name.
 */
export class UpstreamNotConfiguredError extends Error {
  override readonly name = 'UpstreamNotConfiguredError';
  readonly code = 'upstream_not_configured';

  constructor(
    /** The called URL's origin and path (never its query, which may carry data). */
    readonly target: string,
    configured: readonly string[],
  ) {
    super(
      `No upstream is configured for ${target}: not called. ` +
        (configured.length
          ? `Configured upstreams: ${configured.join(', ')}.`
          : 'Configure SERVICE_AUTH_UPSTREAMS (or options.keys.upstreams).'),
    );
  }
}
