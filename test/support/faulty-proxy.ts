/**
 * A tiny HTTP proxy on 127.0.0.1:<free port> in front of a service, with switchable faults, for
 * end-to-end fault tests. Every request is read in full, recorded, and forwarded on a fresh upstream
 * connection; the upstream's answer is read in full and then (depending on the fault) returned, held
 * back, or thrown away by cutting the client's connection.
 *
 *   const proxy = await startFaultyProxy({ port: inventoryPort });
 *   proxy.dropNextResponse();      // the service applies the next request; its answer is lost
 *   proxy.delayNextResponse(2000); // the next answer arrives 2 s late
 *   proxy.refuse();                // every connection is closed at once (the service looks down)
 *   proxy.stall();                 // requests are accepted and never answered (the service hangs)
 *   proxy.pass();                  // back to normal
 *   proxy.forwarded / proxy.attempts / proxy.refused / proxy.stalled
 *   await proxy.close();
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export type ProxyMode = 'pass' | 'refuse' | 'stall';

export interface ForwardedRequest {
  method: string;
  /** Request target as received, e.g. `/api/inventory`. */
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** What became of the answer. `upstream_error`: the target could not be reached, the client's connection was cut. */
  fate: 'returned' | 'dropped' | 'delayed' | 'upstream_error';
  /** Status the target answered with (undefined on upstream_error). */
  status?: number;
}

export interface FaultyProxy {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly mode: ProxyMode;
  /** Requests forwarded to the target, in arrival order. */
  readonly forwarded: readonly ForwardedRequest[];
  /** Connections (or requests on kept-alive connections) closed at once in `refuse` mode. */
  readonly refused: number;
  /** Requests held unanswered in `stall` mode. */
  readonly stalled: number;
  /** Every attempt the proxy saw: forwarded + refused + stalled. */
  readonly attempts: number;
  /** Forward and answer normally (pending one-shot faults stay queued). */
  pass(): void;
  /** Close every new connection, and every request on an open one, at once. */
  refuse(): void;
  /** Accept requests and never answer them (not forwarded); released (connections cut) on pass(), refuse() or close(). */
  stall(): void;
  /** Forward the next request, let the target apply it, then destroy the client connection instead of answering. */
  dropNextResponse(): void;
  /** Forward the next request at once, but hold its answer back for `ms`. */
  delayNextResponse(ms: number): void;
  /** Forgets the recorded requests and counters (not the mode nor the queued faults). */
  resetCounters(): void;
  close(): Promise<void>;
}

export interface FaultyProxyOptions {
  /** Target host; default 127.0.0.1. */
  host?: string;
  /** Target port. */
  port: number;
}

type OneShot = { kind: 'drop' } | { kind: 'delay'; ms: number };

/** Hop-by-hop headers, not forwarded in either direction (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

function endToEnd(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name.toLowerCase())) out[name] = value;
  }
  return out;
}

function readAll(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

export async function startFaultyProxy(options: FaultyProxyOptions): Promise<FaultyProxy> {
  const targetHost = options.host ?? '127.0.0.1';
  const targetPort = options.port;
  let mode: ProxyMode = 'pass';
  const faults: OneShot[] = [];
  const forwarded: ForwardedRequest[] = [];
  let refused = 0;
  let stalled = 0;
  const sockets = new Set<Socket>();
  const held = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const releaseStalled = () => {
    for (const socket of held) socket.destroy();
    held.clear();
  };

  const respond = (res: ServerResponse, status: number, headers: IncomingHttpHeaders, body: Buffer) => {
    if (res.socket?.destroyed || res.writableEnded) return;
    res.writeHead(status, { ...endToEnd(headers), 'content-length': String(body.length) });
    res.end(body);
  };

  const onRequest = async (req: IncomingMessage, res: ServerResponse) => {
    if (mode === 'refuse') {
      refused++;
      req.socket.destroy();
      return;
    }
    const body = await readAll(req).catch(() => undefined);
    if (!body) return;
    if (mode === 'stall') {
      stalled++;
      held.add(req.socket);
      return;
    }
    const fault = faults.shift();
    const record: ForwardedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body, fate: 'returned' };
    forwarded.push(record);
    /** Relays the target's answer to the client, or the fault planned for this request. */
    const relay = async (answer: IncomingMessage) => {
      const answerBody = await readAll(answer).catch(() => undefined);
      if (!answerBody) {
        record.fate = 'upstream_error';
        req.socket.destroy();
        return;
      }
      record.status = answer.statusCode;
      if (fault?.kind === 'drop') {
        // The target has applied the request; the client never learns the outcome.
        record.fate = 'dropped';
        req.socket.destroy();
        return;
      }
      if (fault?.kind === 'delay') {
        record.fate = 'delayed';
        const timer = setTimeout(() => {
          timers.delete(timer);
          respond(res, answer.statusCode ?? 502, answer.headers, answerBody);
        }, fault.ms);
        timers.add(timer);
        return;
      }
      respond(res, answer.statusCode ?? 502, answer.headers, answerBody);
    };
    const upstream = httpRequest(
      {
        host: targetHost,
        port: targetPort,
        method: req.method,
        path: req.url,
        // Host is kept as the client sent it; the upstream connection is not reused.
        headers: { ...endToEnd(req.headers), 'content-length': String(body.length), connection: 'close' },
        agent: false,
      },
      (answer) => void relay(answer),
    );
    upstream.once('error', () => {
      // Target down: behave like it, the client's connection is cut without an answer.
      record.fate = 'upstream_error';
      req.socket.destroy();
    });
    upstream.end(body);
  };
  const server = createServer((req, res) => void onRequest(req, res));
  // Never let an idle kept-alive connection be closed under a client about to reuse it.
  server.keepAliveTimeout = 60_000;
  server.on('connection', (socket: Socket) => {
    if (mode === 'refuse') {
      refused++;
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.once('close', () => {
      sockets.delete(socket);
      held.delete(socket);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get mode() {
      return mode;
    },
    get forwarded() {
      return forwarded;
    },
    get refused() {
      return refused;
    },
    get stalled() {
      return stalled;
    },
    get attempts() {
      return forwarded.length + refused + stalled;
    },
    pass() {
      mode = 'pass';
      releaseStalled();
    },
    refuse() {
      mode = 'refuse';
      releaseStalled();
      // Kept-alive connections too: the service is gone.
      for (const socket of sockets) socket.destroy();
    },
    stall() {
      mode = 'stall';
    },
    dropNextResponse() {
      faults.push({ kind: 'drop' });
    },
    delayNextResponse(ms: number) {
      faults.push({ kind: 'delay', ms });
    },
    resetCounters() {
      forwarded.length = 0;
      refused = 0;
      stalled = 0;
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
