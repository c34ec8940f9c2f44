/**
 * Every refusal logged before a caller is known is bounded, whatever the check that refused it
 * (request target, Content-Encoding, declared size, API key): a flood of 200 such requests gives at
 * most `logging.strangerRefusalsPerSecond` full lines per second plus one summary line per second,
 * and a logged path is cut to a fixed length, however long the path sent.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, Param, type INestApplication } from '@nestjs/common';
import { ServiceAuthModule } from 'nest-service-auth';
import { createServiceApp } from 'service-app';
import { newCredential } from './support/credentials.js';
import type { Adapter } from './support/demo-services.js';
import { listenUrl } from './support/demo-services.js';
import { rawRequest } from './support/raw-http.js';
import { RecordingLogger } from './support/recording.js';

const caller = newCredential('order-1');
const PER_SECOND = 5;
const FLOOD = 200;
const LONG_SEGMENT = 'a'.repeat(12 * 1024);

@Controller('files')
class FilesController {
  @Get('*')
  file(@Param() params: unknown) {
    return params;
  }
}

@Module({
  imports: [
    ServiceAuthModule.forRoot({
      serviceId: 'ledger-service',
      keys: { callers: [{ id: 'order-service', keys: [caller] }] },
      logging: { strangerRefusalsPerSecond: PER_SECOND },
    }),
  ],
  controllers: [FilesController],
})
class FilesModule {}

describe.each<Adapter>(['express', 'fastify'])('refusals before a caller is known (%s)', (adapter) => {
  let app: INestApplication;
  let url: string;
  const logger = new RecordingLogger();

  beforeAll(async () => {
    app = await createServiceApp(FilesModule, { adapter, logger, fastify: { maxParamLength: 20_000 } });
    url = await listenUrl(app);
  });
  afterAll(async () => {
    await app?.close().catch(() => undefined);
  });

  it('200 requests with a 12 KB path and a dot segment: a bounded number of lines, each path cut', async () => {
    logger.warnings.length = 0;
    const path = `/files/${LONG_SEGMENT}/./x`;
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: FLOOD }, () => rawRequest(url, { method: 'GET', path })));
    for (const res of answers) expect([res.status, (res.json as { reason?: string }).reason]).toEqual([400, 'request_target_invalid']);
    const spanSeconds = Math.floor(Date.now() / 1000) - Math.floor(started / 1000) + 1;
    await app.close(); // pending counts are said on shutdown
    const full = logger.warnings.filter((w) => w.startsWith('service_auth_rejected reason=request_target_invalid '));
    const summaries = logger.warnings
      .map((w) => /^service_auth_rejected_suppressed reason=request_target_invalid .* suppressed=(\d+) .* second=(\d+)$/.exec(w))
      .filter((m) => m !== null);
    const seconds = new Set(summaries.map((m) => m[2]));
    // Per second of the flood: at most the budget of full lines and one summary line.
    expect(seconds.size).toBeGreaterThanOrEqual(1);
    expect(summaries.length).toBe(seconds.size);
    expect(seconds.size).toBeLessThanOrEqual(spanSeconds);
    expect(full.length).toBeLessThanOrEqual(PER_SECOND * spanSeconds);
    expect(full.length + summaries.reduce((n, m) => n + Number(m[1]), 0)).toBe(FLOOD);
    for (const line of full) {
      expect(line.length).toBeLessThan(512);
      expect(line).toContain('/files/aaaa');
      expect(line).not.toContain(LONG_SEGMENT);
      expect(line).toMatch(/chars cut/);
    }
  });
});
