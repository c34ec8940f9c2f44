/** What a listening TCP server's `address()` returns (node:net's AddressInfo, by shape: the declarations import nothing). */
export interface AddressInfo {
  address: string;
  port: number;
}

/** A Node.js HTTP server, as `app.getHttpServer()` returns it (structural: no Nest or Node type needed). */
export interface HttpServerLike {
  address(): AddressInfo | string | null;
  listen(port: number, host: string, listening: () => void): unknown;
  close(closed?: (err?: Error) => void): unknown;
  once(event: 'error', listener: (err: Error) => void): unknown;
  removeListener(event: 'error', listener: (err: Error) => void): unknown;
  closeIdleConnections?(): void;
}

/** The parts of a Nest `INestApplication` the helpers use; any Nest version, Express or Fastify. */
export interface NestApplicationLike {
  getHttpServer(): unknown;
  getHttpAdapter?(): { getInstance?(): unknown };
}

/**
 * Where a test request goes: a base URL (`http://127.0.0.1:3000`, or with a base path), a Node.js
 * HTTP server, or a Nest application, listening or only initialised (`await app.init()`).
 */
export type TestTarget = string | URL | HttpServerLike | NestApplicationLike;

/** An origin (and base path) to send to, and how to let go of it afterwards. */
export interface OpenTarget {
  /** `http://host:port[/base]`, no trailing slash. */
  readonly baseUrl: string;
  release(): Promise<void>;
}

function isNestApplication(target: object): target is NestApplicationLike {
  return typeof (target as NestApplicationLike).getHttpServer === 'function';
}

function isHttpServer(target: unknown): target is HttpServerLike {
  return (
    typeof target === 'object' &&
    target !== null &&
    typeof (target as HttpServerLike).address === 'function' &&
    typeof (target as HttpServerLike).listen === 'function'
  );
}

/** The URL of a listening socket; a wildcard address is reached on the loopback interface. */
function urlOf(address: AddressInfo): string {
  const host = address.address === '::' || address.address === '0.0.0.0' ? '127.0.0.1' : address.address;
  return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}

/**
 * Resolves a target to a base URL. A server that is not listening is made to listen on a free
 * loopback port for the one request and closed afterwards, as supertest does with
 * `request(app.getHttpServer())`; a Fastify instance is made ready first (what `app.init()` leaves
 * to `listen()`).
 */
export async function openTarget(target: TestTarget): Promise<OpenTarget> {
  if (typeof target === 'string' || target instanceof URL) {
    const url = new URL(String(target));
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new TypeError(`A test target URL must be http:// or https://, got ${url.protocol}`);
    return { baseUrl: `${url.origin}${url.pathname.replace(/\/+$/, '')}`, release: async () => {} };
  }
  let server: unknown = target;
  if (isNestApplication(target)) {
    server = target.getHttpServer();
    const instance = target.getHttpAdapter?.().getInstance?.() as { ready?: () => PromiseLike<unknown> } | undefined;
    if (typeof instance?.ready === 'function') await instance.ready();
  }
  if (!isHttpServer(server))
    throw new TypeError('A test target is a URL, a Node.js HTTP server or a Nest application (app.getHttpServer())');
  const address = server.address();
  if (address !== null && typeof address === 'object') return { baseUrl: urlOf(address), release: async () => {} };
  if (typeof address === 'string')
    throw new TypeError(`The server listens on ${address}, a pipe or socket file: give the helpers a URL instead`);

  const listening = server;
  await new Promise<void>((resolve, reject) => {
    listening.once('error', reject);
    listening.listen(0, '127.0.0.1', () => {
      listening.removeListener('error', reject);
      resolve();
    });
  });
  return {
    baseUrl: urlOf(listening.address() as AddressInfo),
    release: () =>
      new Promise<void>((resolve) => {
        listening.close(() => resolve());
        // The answered request's keep-alive connection is idle: without this, close waits for the client to drop it.
        listening.closeIdleConnections?.();
      }),
  };
}
