/**
 * A plain node:http server on 127.0.0.1:<free port> that records every request reaching it (read in
 * full) and answers with a switchable handler. Stands in for a hostile or misconfigured upstream, or
 * for a second origin that must never see a signed request.
 *
 *   const origin = await startRecordingServer();                // answers 200 {"answeredBy":"recording-server"}
 *   origin.answerWith((req, res) => { res.writeHead(307, { location: 'http://elsewhere/' }); res.end(); });
 *   origin.received / origin.reset() / await origin.close();
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface ReceivedRequest {
  method: string;
  /** Request target as received, e.g. `/api/inventory?x=1`, or an absolute URL when addressed as a proxy. */
  target: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export type AnswerHandler = (req: ReceivedRequest, res: ServerResponse) => void;

export interface RecordingServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Every request that reached this server, in arrival order. */
  readonly received: readonly ReceivedRequest[];
  answerWith(handler: AnswerHandler): void;
  /** Forgets the recorded requests (not the handler). */
  reset(): void;
  close(): Promise<void>;
}

export const answerJson =
  (status: number, body: unknown): AnswerHandler =>
  (_req, res) => {
    const bytes = Buffer.from(JSON.stringify(body), 'utf8');
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(bytes.length) });
    res.end(bytes);
  };

function readAll(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

export async function startRecordingServer(
  handler: AnswerHandler = answerJson(200, { answeredBy: 'recording-server' }),
): Promise<RecordingServer> {
  let answer = handler;
  const received: ReceivedRequest[] = [];
  const sockets = new Set<Socket>();
  const onRequest = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readAll(req).catch(() => undefined);
    if (!body) return;
    const record: ReceivedRequest = { method: req.method ?? 'GET', target: req.url ?? '/', headers: req.headers, body };
    received.push(record);
    // A client that gives up on a big answer resets the connection while it is being written.
    res.on('error', () => undefined);
    answer(record, res);
  };
  const server = createServer((req, res) => void onRequest(req, res));
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    get received() {
      return received;
    },
    answerWith(next: AnswerHandler) {
      answer = next;
    },
    reset() {
      received.length = 0;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
