// Memory of MemoryNonceStore per remembered nonce.
//
//   npm run build:lib && node --expose-gc bench/nonce-memory.bench.mjs [--nonces 1000000] [--callers 1] [--nonce-chars 22] [--json]
//
// Fills one store with `nonces` live nonces spread over `callers` callers (each caller's budget is
// its share), the way the verifier claims them: each nonce is parsed out of a freshly made
// Signature-Input header with the library's own parser, so that whatever the parser hands over
// (a slice of the header, or a copy) is what the store keeps. Heap used + external memory (the
// Float64Array rings) is read after full garbage collections before and after the fill; the
// difference divided by the number of nonces is the cost of one remembered nonce, key string,
// Set entry and ring slots included.
import { randomBytes } from 'node:crypto';
import { importLib, numberOption } from './common.mjs';

if (typeof globalThis.gc !== 'function') {
  console.error('run with node --expose-gc bench/nonce-memory.bench.mjs');
  process.exit(2);
}

const nonces = numberOption('nonces', 1_000_000);
const callers = numberOption('callers', 1);
// 22: 16 random bytes in base64url, what the library's client sends; up to 128 are accepted.
const nonceChars = numberOption('nonce-chars', 22);
const { MemoryNonceStore } = await importLib();
// Internal since the package split: read from the build, as the verifier uses it.
const { parseSignatureFields } = await importLib('protocol/signature-fields.js');

/** Bytes in use after two full collections (the second one sweeps what the first one's finalizers freed). */
function bytesInUse() {
  globalThis.gc();
  globalThis.gc();
  const { heapUsed, external } = process.memoryUsage();
  return heapUsed + external;
}

const perCaller = Math.ceil(nonces / callers);
const store = new MemoryNonceStore({ maxNoncesPerCaller: perCaller });
const signature = `sig1=:${randomBytes(32).toString('base64')}:`;
const createdBase = Math.floor(Date.now() / 1000);
const expiresAtMs = Date.now() + 3_600_000; // nothing expires during the run

const before = bytesInUse();
for (let i = 0; i < nonces; i++) {
  const created = createdBase + Math.floor(i / 10_000);
  const input =
    'sig1=("@method" "@path" "@query" "x-api-key" "content-type" "content-digest")' +
    `;created=${created};keyid="order-2026-11";alg="hmac-sha256";nonce="${randomBytes(nonceChars).toString('base64url').slice(0, nonceChars)}"`;
  const [parsed] = parseSignatureFields(input, signature);
  await store.claim({ callerId: `caller-${i % callers}-service`, keyId: parsed.params.keyid, nonce: parsed.params.nonce }, expiresAtMs);
}
const after = bytesInUse();

// Distinct nonces are distinct keys, at full size.
if (store.size !== nonces) throw new Error(`expected ${nonces} nonces in the store, found ${store.size}`);

// What the unit suite checks at a budget of 1 000, at this size (the default budget, with one caller):
// a caller at its budget is refused, and another caller is served.
const { NonceBudgetExhaustedError } = await importLib();
const full = `caller-0-service`;
if (store.sizeOf(full) === perCaller) {
  const refusal = await store.claim({ callerId: full, keyId: 'order-2026-11', nonce: 'one-more-than-the-budget' }, expiresAtMs).then(
    (accepted) => new Error(`a caller at its budget of ${perCaller} was not refused (claim answered ${accepted})`),
    (error) => error,
  );
  if (!(refusal instanceof NonceBudgetExhaustedError)) throw refusal;
  if (!(await store.claim({ callerId: 'another-service', keyId: 'k1', nonce: 'polite-nonce-0000000000' }, expiresAtMs))) {
    throw new Error('another caller was refused while one caller was at its budget');
  }
}
const perNonce = (after - before) / nonces;
if (process.argv.includes('--json')) {
  console.log(JSON.stringify({ nonces, nonceChars, callers, bytes: after - before, bytesPerNonce: perNonce, node: process.version }));
  process.exit(0);
}
console.log(
  `${nonces.toLocaleString('en')} nonces of ${nonceChars} characters from ${callers} caller(s) (${perCaller.toLocaleString('en')} each): ` +
    `${((after - before) / 2 ** 20).toFixed(1)} MiB, ${perNonce.toFixed(1)} bytes/nonce (node ${process.version})`,
);
