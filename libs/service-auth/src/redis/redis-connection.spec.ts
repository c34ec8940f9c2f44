/**
 * The deadline of RedisConnection.run, on a simulated clock: a command settles within `timeoutMs`
 * whatever Redis does (never answers, never becomes ready), and not a moment before. The stores'
 * contract against a real redis-server (test/support/namespaced-redis-store-contract.ts) relies on it
 * instead of timing real sockets.
 */
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { RedisConnection } from './redis-connection.js';

const TIMEOUT_MS = 250;

/** Just what RedisConnection reads of an injected ioredis client: its status and its events. */
function fakeClient(status: 'ready' | 'connecting'): Redis & EventEmitter {
  return Object.assign(new EventEmitter(), { status }) as unknown as Redis & EventEmitter;
}

/** The outcome of `promise` so far, without waiting for it. */
function watch(promise: Promise<unknown>): { settled: () => 'pending' | 'resolved' | Error } {
  let state: 'pending' | 'resolved' | Error = 'pending';
  promise.then(
    () => (state = 'resolved'),
    (err: Error) => (state = err),
  );
  return { settled: () => state };
}

describe('RedisConnection.run: the deadline', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  it('a command Redis never answers is refused at timeoutMs, not before', async () => {
    const connection = new RedisConnection({ client: fakeClient('ready'), owner: 'Test' });
    const outcome = watch(connection.run(() => new Promise(() => undefined), TIMEOUT_MS));
    await jest.advanceTimersByTimeAsync(TIMEOUT_MS - 1);
    expect(outcome.settled()).toBe('pending');
    await jest.advanceTimersByTimeAsync(1);
    expect(outcome.settled()).toEqual(new Error(`Redis did not answer within ${TIMEOUT_MS} ms`));
  });

  it('a client that never becomes ready: the command is not sent, and is refused at timeoutMs', async () => {
    const command = jest.fn(() => Promise.resolve('OK'));
    const connection = new RedisConnection({ client: fakeClient('connecting'), owner: 'Test' });
    const outcome = watch(connection.run(command, TIMEOUT_MS));
    await jest.advanceTimersByTimeAsync(TIMEOUT_MS - 1);
    expect(outcome.settled()).toBe('pending');
    await jest.advanceTimersByTimeAsync(1);
    expect(outcome.settled()).toEqual(new Error(`Redis did not answer within ${TIMEOUT_MS} ms`));
    expect(command).not.toHaveBeenCalled();
  });

  it('a client that becomes ready in time: the command is sent then, its answer returned, and no timer is left', async () => {
    const client = fakeClient('connecting');
    const connection = new RedisConnection({ client, owner: 'Test' });
    const answer = connection.run(() => Promise.resolve('PONG'), TIMEOUT_MS);
    await jest.advanceTimersByTimeAsync(TIMEOUT_MS - 1);
    client.emit('ready');
    await expect(answer).resolves.toBe('PONG');
    expect(jest.getTimerCount()).toBe(0);
  });

  it('an answer after the deadline is not returned: the refusal stands', async () => {
    let answer: (value: string) => void = () => undefined;
    const connection = new RedisConnection({ client: fakeClient('ready'), owner: 'Test' });
    const outcome = watch(connection.run(() => new Promise<string>((resolve) => (answer = resolve)), TIMEOUT_MS));
    await jest.advanceTimersByTimeAsync(TIMEOUT_MS);
    answer('late');
    await jest.advanceTimersByTimeAsync(0);
    expect(outcome.settled()).toEqual(new Error(`Redis did not answer within ${TIMEOUT_MS} ms`));
  });
});
