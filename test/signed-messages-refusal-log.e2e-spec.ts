/**
 * A refused event has no answer to carry its reason back: the callee's log line and its metrics are
 * all that is left of it. One signed event with a tampered payload is sent over TCP to a callee whose
 * logger and metrics observer record; the refusal must come out as one line naming the reason, the
 * kind, the pattern and the caller (never a key, a signature or the payload), and as one refusal event.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientProxyFactory, EventPattern, Payload, Transport, type ClientProxy, type MicroserviceOptions } from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';
import { ServiceAuthModule } from 'nest-service-auth';
import { KeyRing, signMessage } from 'nest-service-auth/core';
import { newCredential } from './support/credentials.js';
import { RecordingLogger, RecordingObserver } from './support/recording.js';
import { findFreePort, LOOPBACK, sleep } from './support/server-process.js';

const CALLEE = 'inventory-service';
const orderKey = newCredential('order-2026-11');
const handled: unknown[] = [];

@Controller()
class InventoryEvents {
  @EventPattern('inventory.changed')
  changed(@Payload() data: unknown) {
    handled.push(data);
  }
}

async function eventually(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await sleep(20);
  }
}

describe('a refused event over TCP', () => {
  const logger = new RecordingLogger();
  const observer = new RecordingObserver();
  let callee: INestMicroservice;
  let client: ClientProxy;

  beforeAll(async () => {
    @Module({
      imports: [
        ServiceAuthModule.forRoot({
          serviceId: CALLEE,
          keys: { callers: [{ id: 'order-service', keys: [orderKey] }] },
          metrics: { observer },
        }),
      ],
      controllers: [InventoryEvents],
    })
    class CalleeModule {}
    const port = await findFreePort();
    callee = await NestFactory.createMicroservice<MicroserviceOptions>(CalleeModule, {
      transport: Transport.TCP,
      options: { host: LOOPBACK, port },
      logger,
    });
    await callee.listen();
    client = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: LOOPBACK, port } });
    await client.connect();
  }, 30_000);

  afterAll(async () => {
    await client?.close();
    await callee?.close();
  });

  it('is logged on one line and counted as a refusal, and its handler never runs', async () => {
    const key = KeyRing.from(
      { upstreams: [{ id: CALLEE, url: 'http://inventory-service.invalid', keys: [orderKey] }] },
      'order-service',
    ).upstream(CALLEE)!.keys[0];
    const { envelope } = signMessage({ kind: 'EMIT', pattern: 'inventory.changed', data: { sku: 'ev-1', quantity: 1 } }, key);
    const tampered = { ...envelope, payload: JSON.stringify({ sku: 'ev-1', quantity: 999 }) };
    await firstValueFrom(client.emit('inventory.changed', tampered), { defaultValue: undefined });
    await eventually(() => observer.refusals.length > 0);

    expect(observer.refusals).toEqual([
      expect.objectContaining({
        route: 'inventory.changed',
        method: 'EMIT',
        caller: 'order-service',
        reason: 'digest_mismatch',
        status: 401,
      }),
    ]);
    const lines = logger.warnings.filter((line) => line.includes('service_auth_rejected'));
    expect(lines).toHaveLength(1);
    const [line] = lines;
    expect(line).not.toMatch(/[\r\n]/);
    expect(line).toContain('reason=digest_mismatch');
    expect(line).toContain('method=EMIT');
    expect(line).toContain('pattern=inventory.changed');
    expect(line).toContain('caller=order-service');
    for (const secret of [orderKey.apiKey, orderKey.secret, envelope.serviceAuth['signature'], '999']) expect(line).not.toContain(secret);
    expect(handled).toEqual([]);
    // The library's line is the only one: Nest reports none of its refusals as a handler's error.
    expect(logger.errors).toEqual([]);
  });

  it("logs a flood of a stranger's unsigned events within the refusal log's bound, and Nest adds no line of its own", async () => {
    const before = observer.refusals.length;
    logger.warnings.length = 0;
    logger.errors.length = 0;
    const flood = 300;
    for (let i = 0; i < flood; i++) client.emit('inventory.changed', { i }).subscribe();
    await eventually(() => observer.refusals.length - before >= flood);

    // Every refusal is counted; the lines are those of the bound (strangerRefusalsPerSecond, then a count).
    expect(observer.refusals.slice(before).every((r) => r.reason === 'api_key_missing' && r.method === 'EMIT')).toBe(true);
    expect(logger.warnings.filter((line) => line.includes('service_auth_rejected reason=')).length).toBeLessThan(flood / 10);
    expect(logger.errors).toEqual([]);
    expect(handled).toEqual([]);
  });
});
