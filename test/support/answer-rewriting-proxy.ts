/**
 * An HTTP proxy on 127.0.0.1:<free port> that forwards every request and can change the answer on its
 * way back, as a TLS-terminating proxy or a compromised hop could: rewrite bytes of the body, replay
 * an earlier answer in place of the current one, strip the answer's signature headers, or replace the
 * answer with one made from what it saw of the request (`forge`).
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';

export type AnswerFault = 'pass' | 'rewrite' | 'replay-first' | 'strip-signature' | 'forge';

export interface ProxiedRequest {
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface AnswerRewritingProxy {
  readonly url: string;
  /** What happens to the answers from now on. */
  fault: AnswerFault;
  /** For 'rewrite': every occurrence of `from` in a body becomes `to` (same length or not: Content-Length follows). */
  rewrite: { from: string; to: string };
  /** For 'forge': the answer sent in place of the upstream's, made from the request as it passed and the real answer. */
  forge: (request: ProxiedRequest, answer: Answer) => Answer;
  /** How many requests reached the proxy so far. */
  readonly requests: number;
  close(): Promise<void>;
}

export async function startAnswerRewritingProxy(targetPort: number): Promise<AnswerRewritingProxy> {
  let first: Answer | undefined;
  const state = {
    fault: 'pass' as AnswerFault,
    rewrite: { from: '', to: '' },
    forge: ((_request, answer) => answer) as (request: ProxiedRequest, answer: Answer) => Answer,
    requests: 0,
  };
  const server = createServer((req, res) => {
    state.requests += 1;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const upstream = httpRequest(
        { host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          const parts: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => parts.push(chunk));
          answer.on('end', () => {
            let sent: Answer = { status: answer.statusCode ?? 502, headers: { ...answer.headers }, body: Buffer.concat(parts) };
            first ??= sent;
            if (state.fault === 'rewrite') {
              sent = {
                ...sent,
                body: Buffer.from(sent.body.toString('latin1').split(state.rewrite.from).join(state.rewrite.to), 'latin1'),
              };
            } else if (state.fault === 'replay-first') {
              sent = first;
            } else if (state.fault === 'strip-signature') {
              const headers = { ...sent.headers };
              delete headers['signature'];
              delete headers['signature-input'];
              sent = { ...sent, headers };
            } else if (state.fault === 'forge') {
              sent = state.forge({ headers: req.headers, body: Buffer.concat(chunks) }, sent);
            }
            const headers: IncomingHttpHeaders = { ...sent.headers, 'content-length': String(sent.body.length) };
            delete headers['transfer-encoding'];
            delete headers['connection'];
            delete headers['keep-alive'];
            res.writeHead(sent.status, headers);
            res.end(sent.body);
          });
        },
      );
      upstream.on('error', () => res.destroy());
      upstream.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    get fault() {
      return state.fault;
    },
    set fault(fault: AnswerFault) {
      state.fault = fault;
    },
    get rewrite() {
      return state.rewrite;
    },
    set rewrite(rewrite: { from: string; to: string }) {
      state.rewrite = rewrite;
    },
    get forge() {
      return state.forge;
    },
    set forge(forge: (request: ProxiedRequest, answer: Answer) => Answer) {
      state.forge = forge;
    },
    get requests() {
      return state.requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
