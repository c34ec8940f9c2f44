// Child process of bench/http.bench.mjs: one Nest app (bench/src/bench-app.ts, compiled to
// bench/dist/bench-app.js) listening on 127.0.0.1, so that the load generator and the server never
// share an event loop.
//
//   node bench/bench-server.mjs <plain|apikey|passport|guarded|encrypted|redis|hooks> <express|fastify>
//   env BENCH_CREDENTIAL = JSON { id, apiKey, secret } of the caller 'order-service'
//   env BENCH_REDIS_URL  = the Redis server of the redis mode
//   env BENCH_APP_DIR    = another checkout's bench/ folder, to serve its build (default: this one's)
//
// Protocol (IPC, started with child_process.fork):
//   child -> parent  { type: 'ready', port }                 once listening
//   parent -> child  { type: 'usage', id }                   -> { type: 'usage', id, cpu, elu, rss, heapUsed, gcUs, mono }
//   parent -> child  { type: 'close' }                       closes the app and exits
// cpu is process.cpuUsage() (user + system, µs) and elu the raw eventLoopUtilization() totals, so the
// parent can compute server CPU time per request and event-loop utilisation over any window. gcUs is
// the time spent in garbage collection so far (the wall-clock length of the 'gc' performance entries,
// which a busy machine stretches): a server whose CPU per request drifts between rounds shows whether
// its collector is why.
import { performance, PerformanceObserver } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

let gcUs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcUs += entry.duration * 1000;
}).observe({ entryTypes: ['gc'] });

const [mode, adapter] = process.argv.slice(2);
if (
  !['plain', 'apikey', 'passport', 'guarded', 'encrypted', 'redis', 'hooks'].includes(mode) ||
  !['express', 'fastify'].includes(adapter)
) {
  console.error('usage: node bench/bench-server.mjs <plain|apikey|passport|guarded|encrypted|redis|hooks> <express|fastify>');
  process.exit(2);
}
const credential = JSON.parse(process.env.BENCH_CREDENTIAL ?? 'null');
if (!credential) {
  console.error('BENCH_CREDENTIAL is not set');
  process.exit(2);
}

// BENCH_APP_DIR: the bench/ folder of another checkout (http.bench.mjs --baseline), whose bench app
// imports that checkout's build of the library.
const appDir = process.env.BENCH_APP_DIR ? pathToFileURL(`${process.env.BENCH_APP_DIR}/`) : new URL('./', import.meta.url);
const { createBenchApp } = await import(new URL('dist/bench-app.js', appDir).href);
// BENCH_LOGGER=error: a logger without warnings (the strangers' refusals are then not logged).
const logger = process.env.BENCH_LOGGER === 'error' ? ['error'] : undefined;
const app = await createBenchApp({ mode, adapter, credential, redisUrl: process.env.BENCH_REDIS_URL, logger });
await app.listen(0, '127.0.0.1');
const { port } = app.getHttpServer().address();

const send = (msg) => process.send?.(msg);
process.on('message', async (msg) => {
  if (msg?.type === 'usage') {
    const cpu = process.cpuUsage();
    const elu = performance.eventLoopUtilization();
    send({
      type: 'usage',
      id: msg.id,
      cpu: cpu.user + cpu.system,
      elu: { idle: elu.idle, active: elu.active },
      rss: process.memoryUsage.rss(),
      heapUsed: process.memoryUsage().heapUsed,
      gcUs,
      // CLOCK_MONOTONIC in µs: the clock of --cpu-prof sample timestamps, so a profile can be cut to the runs.
      mono: Number(process.hrtime.bigint() / 1000n),
    });
  } else if (msg?.type === 'close') {
    await app.close();
    process.exit(0);
  }
});
// The parent went away: do not linger.
process.on('disconnect', () => process.exit(0));
send({ type: 'ready', port });
