/**
 * An API key names a caller but proves nothing: anyone who has seen one on the wire can send it. The
 * refusals of requests whose caller is only claimed by its API key (no valid signature: the request
 * was never verified) are bounded too, per caller and reason: at most
 * `logging.strangerRefusalsPerSecond` full lines per second and one summary line per second that
 * says how many were left out. Metrics still see every refusal.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { ServiceAuthModule, TrustedCaller } from 'nest-service-auth';
import { createServiceApp } from 'service-app';
import { newCredential } from './support/credentials.js';
import { listenUrl, type Adapter } from './support/demo-services.js';
import { rawRequest, reasonOf } from './support/raw-http.js';
import { RecordingLogger, RecordingObserver } from './support/recording.js';

const caller = newCredential('order-1');
const PER_SECOND = 5;
const FLOOD = 300;

@Controller('items')
class ItemsController {
  @Get()
  @TrustedCaller('order-service')
  items() {
    return [];
  }
}

function itemsModule(observer: RecordingObserver) {
  @Module({
    imports: [
      ServiceAuthModule.forRoot({
        serviceId: 'ledger-service',
        keys: { callers: [{ id: 'order-service', keys: [caller] }] },
        logging: { strangerRefusalsPerSecond: PER_SECOND },
        metrics: { observer },
      }),
    ],
    controllers: [ItemsController],
  })
  class ItemsModule {}
  return ItemsModule;
}

describe.each<Adapter>(['express', 'fastify'])('refusals of a caller claimed by its API key alone (%s)', (adapter) => {
  let app: INestApplication;
  let url: string;
  const logger = new RecordingLogger();
  const observer = new RecordingObserver();

  beforeAll(async () => {
    app = await createServiceApp(itemsModule(observer), { adapter, logger });
    url = await listenUrl(app);
  });
  afterAll(async () => {
    await app?.close().catch(() => undefined);
  });

  it(`${FLOOD} unsigned requests with a real API key: a bounded number of lines, every refusal counted`, async () => {
    logger.warnings.length = 0;
    const started = Date.now();
    const answers = await Promise.all(
      Array.from({ length: FLOOD }, () => rawRequest(url, { method: 'GET', path: '/items', headers: { 'x-api-key': caller.apiKey } })),
    );
    for (const res of answers) expect([res.status, reasonOf(res)]).toEqual([401, 'signature_missing']);
    const spanSeconds = Math.floor(Date.now() / 1000) - Math.floor(started / 1000) + 1;
    await app.close(); // pending counts are said on shutdown

    const full = logger.warnings.filter((w) => w.startsWith('service_auth_rejected reason=signature_missing '));
    const summaries = logger.warnings
      .map((w) =>
        /^service_auth_rejected_suppressed reason=signature_missing caller=order-service suppressed=(\d+) .* second=(\d+)$/.exec(w),
      )
      .filter((m) => m !== null);
    const seconds = new Set(summaries.map((m) => m[2]));
    expect(seconds.size).toBeGreaterThanOrEqual(1);
    expect(summaries.length).toBe(seconds.size);
    expect(full.length).toBeLessThanOrEqual(PER_SECOND * spanSeconds);
    // Every refusal is a line or part of a count; each line still names the claimed caller, never the key.
    expect(full.length + summaries.reduce((n, m) => n + Number(m[1]), 0)).toBe(FLOOD);
    for (const line of full) expect(line).toContain('caller=order-service');
    expect(logger.warnings.join('\n')).not.toContain(caller.apiKey);
    expect(observer.refusals.filter((r) => r.reason === 'signature_missing')).toHaveLength(FLOOD);
  });
});
