/**
 * A request with no API key, or one nobody holds, is refused before its body is read, on routes that
 * need a caller: the answer comes while the body has not even been sent. Same status, reason, log line
 * and metrics event as the guard's refusal; public routes, known callers and everything else as before.
 *
 * The routes that need a caller are known from start-up (ProtectedRouteTable, installed by
 * ServiceAuthModule.setup): the very first stranger is refused before its body is read. Each test app
 * first sends a body-less stranger's request, which the guard refuses, to compare answers with.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createConnection } from 'node:net';
import { startCallee, type CalleeApp } from './support/callee-app.js';
import { newCredential } from './support/credentials.js';
import { RecordingLogger, RecordingObserver } from './support/recording.js';
import { rawRequest, signedHeaders, signingCredential } from './support/raw-http.js';

const caller = newCredential('order-1');
const signing = signingCredential(caller, { audience: 'ledger-service' });
const MAX_BODY_BYTES = 128 * 1024;

interface Answer {
  status: number;
  headers: string;
  body: unknown;
}

/**
 * Sends only the head of a request (a POST unless `method` says otherwise) that announces
 * `contentLength` bytes, and waits for an answer while sending none of them. Resolves with the answer
 * (a HEAD answer has no body), or with undefined once `waitMs` have passed without one: the server is
 * then waiting for the body (the socket is closed without ever sending it).
 */
function headWithoutBody(
  url: string,
  path: string,
  headers: Record<string, string>,
  contentLength: number,
  waitMs = 10_000,
  method = 'POST',
): Promise<Answer | undefined> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: hostname, port: Number(port) });
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(undefined);
    }, waitMs);
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = received.slice(0, end);
      const status = Number(head.split(' ')[1]);
      if (method === 'HEAD') {
        clearTimeout(timer);
        socket.destroy();
        resolve({ status, headers: head, body: undefined });
        return;
      }
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? NaN);
      if (received.length - end - 4 < length) return;
      clearTimeout(timer);
      socket.destroy();
      resolve({ status, headers: head, body: JSON.parse(received.slice(end + 4, end + 4 + length)) });
    });
    const lines = [
      `${method} ${path} HTTP/1.1`,
      `host: ${hostname}:${port}`,
      'content-type: application/json',
      `content-length: ${contentLength}`,
    ];
    for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  });
}

describe.each(['express', 'fastify'] as const)('strangers are refused before their body is read (%s)', (adapter) => {
  let callee: CalleeApp;
  let url: string;
  const logger = new RecordingLogger();
  const observer = new RecordingObserver();
  let guardLogLine: string;
  let guardAnswer: unknown;

  beforeAll(async () => {
    const options = {
      serviceId: 'ledger-service',
      keys: { callers: [{ id: 'order-service', keys: [caller] }] },
      maxBodyBytes: MAX_BODY_BYTES,
      metrics: { observer },
    };
    callee = await startCallee(adapter, options, ['order-service'], { logger, maxBodyBytes: MAX_BODY_BYTES });
    url = callee.url;
    // A stranger without a body goes on to the guard, which refuses it.
    const first = await rawRequest(url, {
      method: 'POST',
      path: '/entries',
      headers: { 'x-api-key': `sk_${'x'.repeat(40)}` },
    });
    expect(first.json).toMatchObject({ statusCode: 401, reason: 'api_key_invalid' });
    guardAnswer = first.json;
    guardLogLine = String(logger.warnings.at(-1));
    expect(guardLogLine).toBe('service_auth_rejected reason=api_key_invalid status=401 method=POST path=/entries');
    expect(observer.refusals.at(-1)).toMatchObject({
      route: '/entries',
      method: 'POST',
      caller: undefined,
      reason: 'api_key_invalid',
      status: 401,
    });
  });
  afterAll(async () => {
    await callee?.close();
  });

  it('answers 401 api_key_invalid to an unknown API key without waiting for the 64 KiB body, from the first request on', async () => {
    const answer = await headWithoutBody(url, '/entries', { 'x-api-key': `sk_${'y'.repeat(40)}` }, 64 * 1024);
    expect(answer).toBeDefined();
    expect(answer!.status).toBe(401);
    expect(answer!.headers).toMatch(/\r\ncontent-type: application\/json/i);
    expect(answer!.body).toEqual({
      statusCode: 401,
      error: 'Unauthorized',
      reason: 'api_key_invalid',
      message: 'The API key is not valid',
    });
    // word for word what the guard answered the first stranger
    expect(answer!.body).toEqual(guardAnswer);
  });

  it('answers 401 api_key_missing to a request without an API key, body not read', async () => {
    const answer = await headWithoutBody(url, '/entries', {}, 64 * 1024);
    expect(answer?.status).toBe(401);
    expect(answer?.body).toEqual({
      statusCode: 401,
      error: 'Unauthorized',
      reason: 'api_key_missing',
      message: 'X-API-Key header is required',
    });
  });

  it('keeps the guard order: a content coding is refused first, an oversized declaration next', async () => {
    const encoded = await headWithoutBody(url, '/entries', { 'content-encoding': 'gzip' }, 1024);
    expect(encoded?.status).toBe(415);
    expect(encoded?.body).toMatchObject({ reason: 'content_encoding_unsupported' });
    const oversized = await headWithoutBody(url, '/entries', { 'x-api-key': `sk_${'y'.repeat(40)}` }, MAX_BODY_BYTES + 1);
    expect(oversized?.status).toBe(413);
    expect(oversized?.body).toMatchObject({ reason: 'body_too_large' });
  });

  it('logs the refusal as the guard does and counts it in the metrics, route pattern and all', async () => {
    logger.warnings.length = 0;
    observer.refusals.length = 0;
    await headWithoutBody(url, '/entries', { 'x-api-key': `sk_${'z'.repeat(40)}` }, 4096);
    // The line the guard wrote for the first stranger (beforeAll), word for word.
    expect(logger.warnings.map(String)).toEqual([guardLogLine]);
    expect(observer.refusals).toEqual([
      expect.objectContaining({ route: '/entries', method: 'POST', caller: undefined, reason: 'api_key_invalid', status: 401 }),
    ]);
  });

  it('waits for the body of a caller that holds a key, and verifies it as before', async () => {
    const body = Buffer.from(JSON.stringify({ amount: 5 }));
    const headers = signedHeaders(url, signing, { method: 'POST', path: '/entries', body });
    // Its head alone gets no answer: the server waits for the body it announced.
    expect(await headWithoutBody(url, '/entries', { 'x-api-key': caller.apiKey }, body.length, 500)).toBeUndefined();
    const res = await rawRequest(url, { method: 'POST', path: '/entries', headers, body });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ received: { amount: 5 } });
  });

  it('answers a HEAD on a protected GET route (which the GET handler serves) without reading its body', async () => {
    const answer = await headWithoutBody(url, '/whoami', {}, 64 * 1024, 10_000, 'HEAD');
    expect(answer?.status).toBe(401);
  });

  it('reads a percent-encoded path as the router does: refused before its body where the router decodes it', async () => {
    // `/%65ntries` is `/entries` once decoded. Fastify's router decodes the path before matching, so
    // it reaches the protected handler: the stranger is refused without its body. Express matches the
    // path as sent, so no handler serves it: nothing to refuse early, and it gets a 404.
    const answer = await headWithoutBody(url, '/%65ntries', {}, 64 * 1024, adapter === 'fastify' ? 10_000 : 500);
    if (adapter === 'fastify') {
      expect(answer?.status).toBe(401);
      expect(answer?.body).toMatchObject({ reason: 'api_key_missing' });
    } else {
      expect(answer).toBeUndefined();
      const res = await rawRequest(url, {
        method: 'POST',
        path: '/%65ntries',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(res.status).toBe(404);
    }
  });

  it('leaves public routes alone: their strangers are served, body and all', async () => {
    const res = await rawRequest(url, {
      method: 'POST',
      path: '/webhook',
      headers: { 'content-type': 'application/json' },
      body: '{"event":"paid"}',
    });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ received: { event: 'paid' } });
    expect(await headWithoutBody(url, '/webhook', {}, 16, 500)).toBeUndefined();
  });
});
