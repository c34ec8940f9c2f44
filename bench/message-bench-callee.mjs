// The callee of bench/messages.bench.mjs in a process of its own, as in production: one TCP
// microservice of the mode given, on the port given, its handler busy for the µs given.
//
//   (forked by messages.bench.mjs) message-bench-callee.mjs <plain|signed> <port> <workMicros>
//   env BENCH_CREDENTIAL: the pair's credential as JSON
//
// It tells its parent `{ ready: true }` once it listens, and answers `{ cpu: true }` with its
// process.cpuUsage(), so that the bench can report the callee's CPU per round trip.
import { startMessageBenchCallee } from './dist/message-bench-app.js';

const [mode, port, workMicros] = process.argv.slice(2);
const callee = await startMessageBenchCallee(mode, Number(port), JSON.parse(process.env.BENCH_CREDENTIAL), Number(workMicros));
process.on('message', (message) => {
  if (message?.cpu) process.send({ cpu: process.cpuUsage() });
  if (message?.stop) void callee.close().then(() => process.exit(0));
});
process.send({ ready: true });
