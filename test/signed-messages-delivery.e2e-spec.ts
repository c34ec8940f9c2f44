/**
 * How a signed message reaches its handlers over TCP, with packets written by hand (Nest's framing,
 * `<length>#<JSON>`) where a path attacker would change them: every handler of an event pattern gets
 * the signed event under its own trust list; an event handler answers nothing, even to a packet sent
 * as a request; a payload whose text is not the one signed (a lone surrogate has the UTF-8 bytes of
 * U+FFFD) is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern, MessagePattern, Payload, Transport, type MicroserviceOptions } from '@nestjs/microservices';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { Caller, ServiceAuthModule, TrustedCaller, type VerifiedCaller } from 'nest-service-auth';
import { KeyRing, signMessage } from 'nest-service-auth/core';
import { newCredential } from './support/credentials.js';
import { RecordingLogger } from './support/recording.js';
import { findFreePort, LOOPBACK, sleep } from './support/server-process.js';

const CALLEE = 'inventory-service';
const orderKey = newCredential('order-2026-11');
const auditKey = newCredential('audit-2026-11');

/** Which handler got which data, for which caller. */
const seen: { handler: string; data: unknown; caller?: string }[] = [];

@Controller()
class StockEvents {
  @EventPattern('stock.changed')
  forCache(@Payload() data: unknown, @Caller() caller: unknown) {
    seen.push({ handler: 'cache', data, caller: (caller as VerifiedCaller).id });
  }

  @EventPattern('stock.changed')
  @TrustedCaller('order-service')
  forOrders(@Payload() data: unknown, @Caller() caller: unknown) {
    seen.push({ handler: 'orders', data, caller: (caller as VerifiedCaller).id });
  }

  @EventPattern('stock.changed')
  @TrustedCaller('audit-service')
  forAudit(@Payload() data: unknown) {
    seen.push({ handler: 'audit', data });
  }

  @EventPattern('stock.counted')
  counted(@Payload() data: unknown) {
    seen.push({ handler: 'counted', data });
    return { internal: 'what the event handler returns' };
  }

  @MessagePattern('stock.label')
  label(@Payload() data: { name: string }) {
    seen.push({ handler: 'label', data });
    return { label: data.name };
  }
}

function signingKey(credential = orderKey, callerId = 'order-service') {
  const key = KeyRing.from({ upstreams: [{ id: CALLEE, url: 'http://inventory.invalid', keys: [credential] }] }, callerId).upstream(CALLEE)!
    .keys[0];
  if (key.algorithm !== 'hmac-sha256') throw new Error('expected an hmac-sha256 credential');
  return key;
}

/** Writes packets on one connection and collects what comes back within `waitMs`. */
function exchange(port: number, packets: object[], waitMs = 500): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, LOOPBACK);
    const answers: Record<string, unknown>[] = [];
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('error', reject);
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (let hash = buffer.indexOf('#'); hash > 0; hash = buffer.indexOf('#')) {
        const length = Number(buffer.slice(0, hash));
        if (buffer.length < hash + 1 + length) return;
        answers.push(JSON.parse(buffer.slice(hash + 1, hash + 1 + length)) as Record<string, unknown>);
        buffer = buffer.slice(hash + 1 + length);
      }
    });
    for (const packet of packets) {
      const json = JSON.stringify(packet);
      socket.write(`${json.length}#${json}`);
    }
    setTimeout(() => {
      socket.end();
      resolve(answers);
    }, waitMs);
  });
}

async function eventually(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await sleep(20);
  }
}

describe('signed messages as they reach their handlers over TCP', () => {
  const logger = new RecordingLogger();
  let callee: INestMicroservice;
  let port: number;

  beforeAll(async () => {
    @Module({
      imports: [
        ServiceAuthModule.forRoot({
          serviceId: CALLEE,
          keys: {
            callers: [
              { id: 'order-service', keys: [orderKey] },
              { id: 'audit-service', keys: [auditKey] },
            ],
          },
        }),
      ],
      controllers: [StockEvents],
    })
    class CalleeModule {}
    port = await findFreePort();
    callee = await NestFactory.createMicroservice<MicroserviceOptions>(CalleeModule, {
      transport: Transport.TCP,
      options: { host: LOOPBACK, port },
      logger,
    });
    await callee.listen();
  }, 30_000);

  afterAll(async () => {
    await callee?.close();
  });

  it('hands a signed event to every handler of its pattern that trusts its caller, verified once', async () => {
    seen.length = 0;
    logger.warnings.length = 0;
    const marker = randomUUID();
    const { envelope } = signMessage({ kind: 'EMIT', pattern: 'stock.changed', data: { marker } }, signingKey());
    await exchange(port, [{ pattern: 'stock.changed', data: envelope }]);
    await eventually(() => seen.length >= 2);
    await sleep(100);
    expect(seen.map((s) => s.handler).sort()).toEqual(['cache', 'orders']);
    for (const entry of seen) expect(entry).toMatchObject({ data: { marker }, caller: 'order-service' });
    // The audit handler's own trust list refused it; nothing was refused as a replay.
    const refusals = logger.warnings.filter((line) => line.includes('service_auth_rejected'));
    expect(refusals).toEqual([expect.stringContaining('reason=caller_not_trusted')]);
  });

  it('answers nothing from an event handler to a signed event sent as a request', async () => {
    seen.length = 0;
    const { envelope } = signMessage({ kind: 'EMIT', pattern: 'stock.counted', data: { count: 1 } }, signingKey());
    const answers = await exchange(port, [{ pattern: 'stock.counted', data: envelope, id: randomUUID() }]);
    expect(seen).toEqual([{ handler: 'counted', data: { count: 1 } }]);
    expect(JSON.stringify(answers)).not.toContain('what the event handler returns');
  });

  it('refuses a payload whose UTF-8 bytes are the signed ones but whose text is not (a lone surrogate) with body_malformed', async () => {
    seen.length = 0;
    const { envelope } = signMessage({ kind: 'SEND', pattern: 'stock.label', data: { name: 'p\uFFFD' } }, signingKey());
    const forged = { ...envelope, payload: envelope.payload.replace('\uFFFD', '\uD800') };
    expect(Buffer.from(forged.payload, 'utf8').equals(Buffer.from(envelope.payload, 'utf8'))).toBe(true);
    const answers = await exchange(port, [{ pattern: 'stock.label', data: forged, id: randomUUID() }]);
    expect(answers.find((a) => 'err' in a)?.err).toEqual({ status: 400, reason: 'body_malformed', message: expect.any(String) });
    expect(seen).toEqual([]);
  });
});
