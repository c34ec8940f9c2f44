/**
 * inventory-service's GET /health checks its replay store through ReplayStoreHealthIndicator
 * (@nestjs/terminus), on both adapters, with a real redis-server (REDIS_URL): 200 while Redis
 * answers PING, 503 with terminus' standard body while it is down, 200 again once it is back,
 * without restarting the service. Without REDIS_URL the in-process store is checked (up).
 *
 * Needs redis-server (fails, never skips, when it is missing).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Adapter } from './support/demo-services.js';
import { startInventory, type RunningInventory } from './support/inventory-service.js';
import { rawRequest, type RawResponse } from './support/raw-http.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';

const ADAPTERS: Adapter[] = ['express', 'fastify'];

const health = (inventory: RunningInventory) => rawRequest(inventory.url, { method: 'GET', path: '/health' });

const UP_BODY = {
  status: 'ok',
  info: { replay_store: { status: 'up' } },
  error: {},
  details: { replay_store: { status: 'up' } },
};

let redis: RedisServerHandle;

beforeAll(async () => {
  redis = await startRedisServer();
});

afterAll(async () => {
  await redis?.stop();
});

describe.each(ADAPTERS)('GET /health with the replay store in Redis (%s)', (adapter) => {
  let inventory: RunningInventory;

  beforeAll(async () => {
    inventory = await startInventory({ adapter, env: { REDIS_URL: redis.url } });
  }, 60_000);

  afterAll(async () => {
    await inventory?.close();
  });

  it('Redis answers: 200, replay_store up', async () => {
    const res = await health(inventory);
    expect(res.status).toBe(200);
    expect(res.json).toEqual(UP_BODY);
  });

  it('Redis down: 503 with terminus’ body, replay_store down; back up: 200 again, by itself', async () => {
    await redis.kill();
    let down: RawResponse;
    try {
      down = await health(inventory);
    } finally {
      await redis.restart();
    }
    expect(down.status).toBe(503);
    expect(down.json).toEqual({
      status: 'error',
      info: {},
      error: { replay_store: { status: 'down', message: expect.stringMatching(/^Replay store unavailable: /) } },
      details: { replay_store: { status: 'down', message: expect.any(String) } },
    });
    expect(down.text).not.toMatch(/\n\s+at\s|\.ts\b|node_modules/);

    // Same port, empty dataset; the service is not restarted. ioredis reconnects (backoff capped at 2 s).
    const deadline = Date.now() + 10_000;
    let last = await health(inventory);
    while (last.status !== 200 && Date.now() < deadline) {
      expect(last.status).toBe(503);
      await sleep(200);
      last = await health(inventory);
    }
    expect(last.status).toBe(200);
    expect(last.json).toEqual(UP_BODY);
  }, 30_000);
});

describe('GET /health with the in-process replay store (no REDIS_URL)', () => {
  let inventory: RunningInventory;

  beforeAll(async () => {
    inventory = await startInventory({ adapter: 'express' });
  }, 60_000);

  afterAll(async () => {
    await inventory?.close();
  });

  it('200, replay_store up', async () => {
    const res = await health(inventory);
    expect(res.status).toBe(200);
    expect(res.json).toEqual(UP_BODY);
  });
});
