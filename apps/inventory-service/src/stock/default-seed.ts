/** Stock written by a store's init() into an empty stock: what a fresh inventory holds. */
export const DEFAULT_SEED: Readonly<Record<string, number>> = Object.freeze({ P123: 100, P456: 50, P789: 0 });
