/**
 * Setup file of the `unit` Jest project (jest.config.js): unit tests start no server process, so they
 * run anywhere, in parallel and fast. The test server helpers (test/support/server-process.ts) read this
 * flag and refuse, saying how to move the spec to the e2e project. `process.env` is this test file's own
 * copy, so the flag does not reach e2e files run later by the same worker.
 */
import { SERVER_PROCESSES_FORBIDDEN } from '../server-process.js';

process.env[SERVER_PROCESSES_FORBIDDEN] = 'unit tests start no server process';
