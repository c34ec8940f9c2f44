/** Slots a caller's ring starts with, and never shrinks below. */
const MIN_SLOTS = 64;

/**
 * The live nonces of ONE caller, at most `capacity` of them: a Set answers "seen before?", and a ring
 * buffer keeps them in arrival order with their expiry, so that expired nonces leave from the front
 * and the earliest moment room comes back is read from the front, both without looking at the rest.
 *
 * Arrival order is expiry order when the caller's `created` values increase, which honest callers'
 * do (a few seconds of clock skew between its replicas aside). A nonce that arrived after a
 * longer-lived one waits behind it: it is remembered longer than needed, never less, and only that
 * caller's own share is held up.
 *
 * The ring grows by doubling up to `capacity`, and halves when three quarters are unused, so an idle
 * caller costs little. Expiries sit unboxed in a Float64Array; the ring and the Set share each key.
 */
export class CallerNonces {
  private readonly seen = new Set<string>();
  private keys: Array<string | undefined>;
  private expiries: Float64Array;
  /** Slot of the oldest nonce. */
  private head = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    const slots = Math.min(capacity, MIN_SLOTS);
    this.keys = new Array<string | undefined>(slots);
    this.expiries = new Float64Array(slots);
  }

  get size(): number {
    return this.count;
  }

  get isFull(): boolean {
    return this.count >= this.capacity;
  }

  /** When the oldest nonce expires (epoch ms); `undefined` when there is none. */
  get oldestExpiresAtMs(): number | undefined {
    return this.count === 0 ? undefined : this.expiries[this.head];
  }

  has(key: string): boolean {
    return this.seen.has(key);
  }

  /** Drops expired nonces from the front, up to the first live one. Amortised O(1) per nonce ever added. */
  forgetExpired(nowMs: number): void {
    const slots = this.keys.length;
    while (this.count > 0 && this.expiries[this.head] <= nowMs) {
      this.seen.delete(this.keys[this.head]!);
      this.keys[this.head] = undefined;
      this.head = this.head + 1 === slots ? 0 : this.head + 1;
      this.count--;
    }
    if (slots > MIN_SLOTS && this.count <= slots / 4) this.resize(Math.max(MIN_SLOTS, Math.ceil(slots / 2)));
  }

  /** Remembers `key` until `expiresAtMs`. The caller has checked that it is new and that there is room. */
  add(key: string, expiresAtMs: number): void {
    if (this.count === this.keys.length) this.resize(Math.min(this.capacity, this.keys.length * 2));
    const slots = this.keys.length;
    const tail = this.head + this.count < slots ? this.head + this.count : this.head + this.count - slots;
    this.keys[tail] = key;
    this.expiries[tail] = expiresAtMs;
    this.seen.add(key);
    this.count++;
  }

  /** Copies the live slots, oldest first, into rings of `slots` slots. O(size), amortised by the doubling/halving. */
  private resize(slots: number): void {
    const keys = new Array<string | undefined>(slots);
    const expiries = new Float64Array(slots);
    const old = this.keys.length;
    for (let i = 0, from = this.head; i < this.count; i++, from = from + 1 === old ? 0 : from + 1) {
      keys[i] = this.keys[from];
      expiries[i] = this.expiries[from];
    }
    this.keys = keys;
    this.expiries = expiries;
    this.head = 0;
  }
}
